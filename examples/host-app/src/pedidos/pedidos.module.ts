import { Module } from '@nestjs/common';
import { PedidosService } from './pedidos.service';

// NotificationsService needs no import here: NotificationsModule.forRoot makes it global.
@Module({ providers: [PedidosService], exports: [PedidosService] })
export class PedidosModule {}
