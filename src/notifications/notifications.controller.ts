import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { StaffGuard } from '../auth/staff.guard';
import { ApiErrorResponses } from '../common/api-error-responses.decorator';
import { ListResponseDto } from './dto/list-response.dto';
import { ListQueryDto } from './dto/list-query.dto';
import { MarkReadDto, MarkReadResponseDto } from './dto/mark-read.dto';
import { SendDto, SendResponseDto } from './dto/send.dto';
import { NotificationsService } from './notifications.service';

@ApiTags('notifications')
@ApiBearerAuth()
@ApiErrorResponses(400, 401, 429, 503)
@Controller('notifications/api')
@UseGuards(JwtAuthGuard)
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('list')
  @ApiOperation({
    summary: 'Your notifications, newest first, with your unread count',
    description: 'Keyset pages: pass next_cursor as cursor for the next page (null at the end).',
  })
  @ApiOkResponse({ type: ListResponseDto })
  list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListQueryDto,
  ): Promise<ListResponseDto> {
    return this.notifications.list(user.id, query);
  }

  @Post('mark-read')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Mark some (or, with ids: [], all) of your notifications read',
    description:
      'Ids of other users’ notifications are ignored. Every socket of yours gets unread_count.',
  })
  @ApiBody({
    type: MarkReadDto,
    examples: {
      some: { summary: 'These three', value: { ids: [1, 2, 3] } },
      all: { summary: 'All of yours', value: { ids: [] } },
    },
  })
  @ApiOkResponse({ type: MarkReadResponseDto })
  @ApiErrorResponses(413)
  markRead(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: MarkReadDto,
  ): Promise<MarkReadResponseDto> {
    return this.notifications.markRead(user.id, body.ids);
  }

  @Post('send')
  @UseGuards(StaffGuard)
  @ApiOperation({
    summary: 'Send a notification to users or to all staff (staff only)',
    description:
      'All or nothing: an unknown or inactive user id is a 400 naming the ids, and nothing is sent.',
  })
  @ApiBody({
    type: SendDto,
    examples: {
      usuarios: {
        summary: 'To these users',
        value: { usuarios: [4, 5], mensaje: 'Pedido #42 listo para servir' },
      },
      kind: {
        summary: 'With a kind, a link and data',
        value: {
          usuarios: [4],
          mensaje: 'Pedido #42 listo para servir',
          tipo: 'pedido',
          url: '/pedidos/42',
          datos: { pedido: 42 },
        },
      },
      staff: {
        summary: 'To every active staff user',
        value: { staff: true, mensaje: 'Stock bajo: quedan 2 kg de tomate' },
      },
    },
  })
  @ApiCreatedResponse({ type: SendResponseDto })
  @ApiErrorResponses(403, 413)
  async send(@Body() body: SendDto): Promise<SendResponseDto> {
    const opts = { tipo: body.tipo, url: body.url, datos: body.datos };
    const created =
      body.usuarios !== undefined
        ? await this.notifications.notificarUsuarios(body.usuarios, body.mensaje, opts)
        : await this.notifications.notificarStaff(body.mensaje, opts);
    return { created: created.length, ids: created.map((notificacion) => notificacion.id) };
  }
}
