import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Post,
  Query,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { EntityManager } from 'typeorm';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { StaffGuard } from '../auth/staff.guard';
import { ApiErrorResponses } from '../common/api-error-responses.decorator';
import { StrictValidationPipe } from '../common/strict-validation.pipe';
import { ErrorResponseDto } from '../common/error-response.dto';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { RetryAfterInterceptor } from '../limits/retry-after.interceptor';
import { ListResponseDto } from './dto/list-response.dto';
import { ListQueryDto } from './dto/list-query.dto';
import { MarkReadDto, MarkReadResponseDto } from './dto/mark-read.dto';
import { SendDto, SendResponseDto } from './dto/send.dto';
import { NotificationsService } from './notifications.service';
import { TakesNoQuery } from '../common/no-query.interceptor';

@ApiTags('notifications')
@ApiBearerAuth()
@ApiErrorResponses(400, 401, 429, 503)
@Controller('notifications/api')
@UseGuards(JwtAuthGuard)
// Its own validation too: a host app may bind no pipe (or a laxer one) app-wide.
@UsePipes(StrictValidationPipe)
export class NotificationsController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly idempotency: IdempotencyService,
  ) {}

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
  @TakesNoQuery()
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
  @TakesNoQuery()
  @UseGuards(StaffGuard)
  // The one route whose work waits for admission (fan-outs): a 503 says when to try again.
  @UseInterceptors(RetryAfterInterceptor)
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
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      '1 to 200 printable ASCII characters. A repeat by the same sender within 24 hours answers ' +
      'the first 201 again and creates nothing; a request that failed stored nothing and may be repeated.',
  })
  @ApiCreatedResponse({ type: SendResponseDto })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'A request with this Idempotency-Key is still in progress',
  })
  @ApiUnprocessableEntityResponse({
    type: ErrorResponseDto,
    description: 'This Idempotency-Key was used with a different body',
  })
  @ApiErrorResponses(403, 413)
  async send(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: SendDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<SendResponseDto> {
    const key = this.idempotency.parseKey(idempotencyKey);
    if (key === undefined) return this.sendNow(body);
    return this.idempotency.run(user.id, key, body, (manager) => this.sendNow(body, manager));
  }

  private async sendNow(body: SendDto, manager?: EntityManager): Promise<SendResponseDto> {
    const opts = { manager, tipo: body.tipo, url: body.url, datos: body.datos };
    const created =
      body.usuarios !== undefined
        ? await this.notifications.notificarUsuarios(body.usuarios, body.mensaje, opts)
        : await this.notifications.notificarStaff(body.mensaje, opts);
    return { created: created.length, ids: created.map((notificacion) => notificacion.id) };
  }
}
