import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, Max, Min } from 'class-validator';
import type {
  DeleteRequest,
  DeleteResult,
  MarkUnreadRequest,
  MarkUnreadResult,
  UnreadCountResponse,
} from '../events';
import { MARK_READ_BODY_LIMIT, MARK_READ_MAX_IDS } from './mark-read.dto';

/** Their largest valid bodies are mark-read's (1,000 ids), and so is their limit. */
export const MARK_UNREAD_BODY_LIMIT = MARK_READ_BODY_LIMIT;
export const DELETE_BODY_LIMIT = MARK_READ_BODY_LIMIT;

export class MarkUnreadDto implements MarkUnreadRequest {
  @ApiProperty({
    type: [Number],
    example: [1, 2],
    description: 'Notification ids to mark unread (at least one). Others’ ids are ignored.',
    minItems: 1,
    maxItems: MARK_READ_MAX_IDS,
  })
  @IsArray()
  @ArrayMinSize(1, { message: 'ids must name at least one notification (there is no "all")' })
  @ArrayMaxSize(MARK_READ_MAX_IDS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(Number.MAX_SAFE_INTEGER, { each: true })
  ids!: number[];
}

export class MarkUnreadResponseDto implements MarkUnreadResult {
  @ApiProperty({ example: 2, description: 'How many of your read notifications became unread' })
  updated!: number;

  @ApiProperty({ example: 4 })
  unread_count!: number;
}

export class DeleteDto implements DeleteRequest {
  @ApiProperty({
    type: [Number],
    example: [1, 2],
    description:
      'Notification ids to delete; [] deletes all of your read ones. Others’ ids are ignored.',
    maxItems: MARK_READ_MAX_IDS,
  })
  @IsArray()
  @ArrayMaxSize(MARK_READ_MAX_IDS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(Number.MAX_SAFE_INTEGER, { each: true })
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
