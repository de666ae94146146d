import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, Matches } from 'class-validator';
import type { Preferences } from '../notifications/events';
import { TIPO_PATTERN } from '../notifications/notification-fields';

export const SILENCIADOS_MAX = 50;

/**
 * The largest valid body: 50 kinds of 50 characters written as `\u` escapes (legal JSON, six
 * bytes a character), each on its own indented line, about 15.6 KB; over 24 KiB is 413.
 */
export const PREFERENCES_BODY_LIMIT = 24 * 1024;

export class PreferencesDto implements Preferences {
  @ApiProperty({
    type: [String],
    example: ['stock'],
    maxItems: SILENCIADOS_MAX,
    description:
      'Kinds (tipo) not pushed live: stored already read instead. Unmuting resurrects nothing.',
  })
  @IsArray()
  @ArrayMaxSize(SILENCIADOS_MAX)
  @Matches(TIPO_PATTERN, {
    each: true,
    message: 'each of silenciados must be a tipo: 1 to 50 characters of a-z, 0-9, _ and -',
  })
  silenciados!: string[];
}
