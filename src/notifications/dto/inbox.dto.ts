import { ApiProperty } from '@nestjs/swagger';
import type {
  DeleteRequest,
  DeleteResult,
  MarkUnreadRequest,
  MarkUnreadResult,
  UnreadCountResponse,
} from '../events';
import { MARK_READ_BODY_LIMIT, NotificationIds } from './mark-read.dto';

/** Their largest valid bodies are mark-read's (1,000 ids), and so is their limit. */
export const MARK_UNREAD_BODY_LIMIT = MARK_READ_BODY_LIMIT;
export const DELETE_BODY_LIMIT = MARK_READ_BODY_LIMIT;

export class MarkUnreadDto implements MarkUnreadRequest {
  @NotificationIds(
    'Notification ids to mark unread (at least one). Others’ ids are ignored.',
    [1, 2],
    true,
  )
  ids!: number[];
}

export class MarkUnreadResponseDto implements MarkUnreadResult {
  @ApiProperty({ example: 2, description: 'How many of your read notifications became unread' })
  updated!: number;

  @ApiProperty({ example: 4 })
  unread_count!: number;
}

export class DeleteDto implements DeleteRequest {
  @NotificationIds(
    'Notification ids to delete; [] deletes all of your read ones. Others’ ids are ignored.',
    [1, 2],
  )
  ids!: number[];
}

export class DeleteResponseDto implements DeleteResult {
  @ApiProperty({ example: 2, description: 'How many of your notifications were deleted' })
  deleted!: number;

  @ApiProperty({ example: 4 })
  unread_count!: number;
}

export class UnreadCountResponseDto implements UnreadCountResponse {
  @ApiProperty({ example: 5 })
  unread_count!: number;
}
