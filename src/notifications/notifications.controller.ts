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
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { StaffGuard } from '../auth/staff.guard';
import { ListResponseDto } from './dto/list-response.dto';
import { ListQueryDto } from './dto/list-query.dto';
import { MarkReadDto, MarkReadResponseDto } from './dto/mark-read.dto';
import { SendDto, SendResponseDto } from './dto/send.dto';
import { NotificationsService } from './notifications.service';

@ApiTags('notifications')
@ApiBearerAuth()
@ApiUnauthorizedResponse({
  description: 'Missing, invalid or expired token, or an unknown or inactive user',
})
@ApiBadRequestResponse({ description: 'Invalid query or body' })
@Controller('notifications/api')
@UseGuards(JwtAuthGuard)
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('list')
  @ApiOkResponse({ type: ListResponseDto })
  list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListQueryDto,
  ): Promise<ListResponseDto> {
    return this.notifications.list(user.id, query);
  }

  @Post('mark-read')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: MarkReadResponseDto })
  markRead(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: MarkReadDto,
  ): Promise<MarkReadResponseDto> {
    return this.notifications.markRead(user.id, body.ids);
  }

  @Post('send')
  @UseGuards(StaffGuard)
  @ApiCreatedResponse({ type: SendResponseDto })
  @ApiForbiddenResponse({ description: 'The caller is not staff' })
  async send(@Body() body: SendDto): Promise<SendResponseDto> {
    const created =
      body.usuarios !== undefined
        ? await this.notifications.notificarUsuarios(body.usuarios, body.mensaje)
        : await this.notifications.notificarStaff(body.mensaje);
    return { created: created.length, ids: created.map((notificacion) => notificacion.id) };
  }
}
