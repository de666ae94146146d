import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Post,
  Query,
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

@ApiTags('notifications')
@ApiBearerAuth()
@ApiErrorResponses(400, 401, 429, 503)
@Controller('notifications/api')
@UseGuards(JwtAuthGuard)
// Its own validation too: a host app may bind no pipe (or a laxer one) app-wide.
@UsePipes(StrictValidationPipe)
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get('unread-count')
  @ApiOperation({ summary: 'How many of your notifications are unread (for a badge)' })
  @ApiOkResponse({ type: UnreadCountResponseDto })
  async unreadCount(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: Record<string, unknown>,
  ): Promise<UnreadCountResponseDto> {
    // It takes no parameters, and, like every route, refuses one it does not know.
    const unknown = Object.keys(query);
    if (unknown.length > 0)
      throw new BadRequestException(unknown.map((key) => `unknown parameter ${key}`));
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
