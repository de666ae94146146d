import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, Max, Min } from 'class-validator';
import { MarkReadRequest, MarkReadResult } from '../events';

export const MARK_READ_MAX_IDS = 1000;

/**
 * The largest body a valid mark-read can take, with room to spare: 1,000 ids of up to 16 digits
 * (2^53 - 1), each on its own indented line (24 bytes), about 24 KB; over 32 KiB is 413.
 */
export const MARK_READ_BODY_LIMIT = 32 * 1024;

/**
 * `ids` of the caller's notifications, as mark-read, mark-unread and delete take them: at most
 * 1,000 positive integers; `atLeastOne` where the route has no meaning for `[]`.
 */
export function NotificationIds(
  description: string,
  example: number[],
  atLeastOne = false,
): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: [Number],
      example,
      description,
      ...(atLeastOne ? { minItems: 1 } : {}),
      maxItems: MARK_READ_MAX_IDS,
    }),
    IsArray(),
    ...(atLeastOne
      ? [
          ArrayMinSize(1, {
            message: 'ids must name at least one notification (there is no "all")',
          }),
        ]
      : []),
    ArrayMaxSize(MARK_READ_MAX_IDS),
    IsInt({ each: true }),
    Min(1, { each: true }),
    Max(Number.MAX_SAFE_INTEGER, { each: true }),
  );
}

export class MarkReadDto implements MarkReadRequest {
  @NotificationIds(
    'Notification ids to mark read; [] marks all of yours. Others’ ids are ignored.',
    [1, 2, 3],
  )
  ids!: number[];
}

export class MarkReadResponseDto implements MarkReadResult {
  @ApiProperty({ example: 3, description: 'How many of your unread notifications became read' })
  updated!: number;

  @ApiProperty({ example: 2 })
  unread_count!: number;
}
