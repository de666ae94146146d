import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { User } from '../users/user.entity';

@Entity({ name: 'notificaciones' })
// The real definitions (with DESC columns) live in the migrations; `synchronize: false` keeps
// migration:generate from trying to rewrite them.
@Index('notificaciones_usuario_leida_fecha_idx', { synchronize: false })
@Index('notificaciones_usuario_fecha_id_idx', { synchronize: false })
@Index('notificaciones_usuario_id_idx', { synchronize: false })
@Index('notificaciones_fecha_brin_idx', { synchronize: false })
export class Notificacion {
  /** bigint in the table; the repositories hand it out as a number (ids stay below 2^53). */
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'usuario_id' })
  usuario?: User;

  @Column({ name: 'usuario_id', type: 'integer' })
  usuarioId!: number;

  @Column({ type: 'text' })
  mensaje!: string;

  @Column({ type: 'boolean', default: false })
  leida!: boolean;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  fecha!: Date;

  /** What kind of notification it is (`pedido`, `stock`...): 1..50 of a-z 0-9 _ -. */
  @Column({ type: 'varchar', length: 50, default: 'general' })
  tipo!: string;

  /** Where the frontend goes when it is clicked: a path or an http(s) URL. */
  @Column({ type: 'text', nullable: true })
  url!: string | null;

  /** A JSON object for the frontend's own use, at most 4 KiB serialized. */
  @Column({ type: 'jsonb', nullable: true })
  datos!: Record<string, unknown> | null;

  /**
   * Stored while its user had silenced its `tipo`: stored read, never pushed, never replayed.
   * Not part of the notification's JSON.
   */
  @Column({ type: 'boolean', default: false, select: false })
  silenciada?: boolean;

  /** The form the admin and logs of the replaced system showed: "<username> - <mensaje>". */
  toString(): string {
    return `${this.usuario?.username ?? `user ${this.usuarioId}`} - ${this.mensaje}`;
  }
}
