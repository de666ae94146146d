import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Notificacion, NotificationsService } from '../../../../src';
import { Pedido } from './pedido.entity';

/** Places orders; the customer hears of each one that was placed, and of no other. */
@Injectable()
export class PedidosService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly notifications: NotificationsService,
  ) {}

  /**
   * Stores the order and its notification in one transaction. Either both exist (and the
   * customer's open tabs get the notification once it commits) or neither does: a reference
   * already used fails the insert, which rolls back the notification written before it.
   */
  async crear(
    usuarioId: number,
    referencia: string,
  ): Promise<{ pedido: Pedido; notificacion: Notificacion }> {
    return this.dataSource.transaction(async (manager) => {
      const notificacion = await this.notifications.notificarUsuario(
        usuarioId,
        `Pedido ${referencia} recibido`,
        { manager },
      );
      const pedido = await manager.save(manager.create(Pedido, { usuarioId, referencia }));
      return { pedido, notificacion };
    });
  }
}
