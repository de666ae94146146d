import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ApiErrorResponses } from '../common/api-error-responses.decorator';
import {
  DeleteDto,
  DeleteResponseDto,
  MarkUnreadDto,
  MarkUnreadResponseDto,
  UnreadCountResponseDto,
} from './dto/inbox.dto';
import { InboxService } from './inbox.service';
import { StrictValidationPipe } from '../common/strict-validation.pipe';
import { TakesNoQuery } from '../common/no-query.interceptor';

@ApiTags('notifications')
@ApiBearerAuth()
@ApiErrorResponses(400, 401, 429, 503)
@Controller('notifications/api')
@UseGuards(JwtAuthGuard)
// Its own validation too: a host app may bind no pipe (or a laxer one) app-wide.
@UsePipes(StrictValidationPipe)
// None of its routes takes a query parameter; like every route, it refuses one it does not know.
@TakesNoQuery()
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get('unread-count')
  @ApiOperation({ summary: 'How many of your notifications are unread (for a badge)' })
  @ApiOkResponse({ type: UnreadCountResponseDto })
  async unreadCount(@CurrentUser() user: AuthenticatedUser): Promise<UnreadCountResponseDto> {
    return { unread_count: await this.inbox.unreadCount(user.id) };
  }

  @Post('mark-unread')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Mark some of your notifications unread again',
    description:
      '1 to 1,000 ids; ids of other users’ notifications are ignored. Every socket of yours gets unread_count.',
  })
  @ApiBody({
    type: MarkUnreadDto,
    examples: { some: { summary: 'These two', value: { ids: [1, 2] } } },
  })
  @ApiOkResponse({ type: MarkUnreadResponseDto })
  @ApiErrorResponses(413)
  markUnread(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: MarkUnreadDto,
  ): Promise<MarkUnreadResponseDto> {
    return this.inbox.markUnread(user.id, body.ids);
  }

  @Post('delete')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Delete some of your notifications, or (ids: []) all of your read ones',
    description:
      'Ids of other users’ notifications are ignored. Every socket of yours gets notificaciones_eliminadas and unread_count.',
  })
  @ApiBody({
    type: DeleteDto,
    examples: {
      some: { summary: 'These two', value: { ids: [1, 2] } },
      clearRead: { summary: 'Every read one of yours', value: { ids: [] } },
    },
  })
  @ApiOkResponse({ type: DeleteResponseDto })
  @ApiErrorResponses(413)
  delete(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: DeleteDto,
  ): Promise<DeleteResponseDto> {
    return this.inbox.delete(user.id, body.ids);
  }
}
