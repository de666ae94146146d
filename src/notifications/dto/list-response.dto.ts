import { ApiProperty } from '@nestjs/swagger';
import { ListResponse, NotificacionJson } from '../events';

export class NotificacionDto implements NotificacionJson {
  @ApiProperty({ example: 1 })
  id!: number;

  @ApiProperty({ example: 'Pedido #42 listo para servir' })
  mensaje!: string;

  @ApiProperty({ example: false })
  leida!: boolean;

  @ApiProperty({ example: '2025-03-06T10:30:00.000Z', format: 'date-time' })
  fecha!: string;

  @ApiProperty({
    example: 'pedido',
    description: 'What kind of notification it is (default general)',
  })
  tipo!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '/pedidos/42',
    description: 'Where the frontend goes when it is clicked',
  })
  url!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { pedido: 42 },
    description: "A JSON object for the frontend's own use",
  })
  datos!: Record<string, unknown> | null;
}

export class ListResponseDto implements ListResponse {
  @ApiProperty({ type: [NotificacionDto] })
  notifications!: NotificacionDto[];

  @ApiProperty({ example: 5, description: 'All of your unread notifications, not just this page' })
  unread_count!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'MjAyNS0wMy0wNlQxMDozMDowMC4xMjM0NTZafDE',
    description: 'Pass as cursor for the next page; null at the end',
  })
  next_cursor!: string | null;
}
