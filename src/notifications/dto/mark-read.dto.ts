import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsInt, Max, Min } from 'class-validator';

export const MARK_READ_MAX_IDS = 1000;

export class MarkReadDto {
  @ApiProperty({
    type: [Number],
    example: [1, 2, 3],
    description: 'Notification ids to mark read; [] marks all of yours. Others’ ids are ignored.',
    maxItems: MARK_READ_MAX_IDS,
  })
  @IsArray()
  @ArrayMaxSize(MARK_READ_MAX_IDS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(Number.MAX_SAFE_INTEGER, { each: true })
  ids!: number[];
}

export class MarkReadResponseDto {
  @ApiProperty({ example: 3, description: 'How many of your unread notifications became read' })
  updated!: number;

  @ApiProperty({ example: 2 })
  unread_count!: number;
}
