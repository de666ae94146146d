import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The host's own data: an order, written in the same transaction as its notification. */
@Entity('pedidos')
export class Pedido {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'usuario_id' })
  usuarioId!: number;

  /** The customer's order reference: unique, so placing the same order twice fails. */
  @Column()
  referencia!: string;

  @CreateDateColumn({ name: 'creado', type: 'timestamptz' })
  creado!: Date;
}
