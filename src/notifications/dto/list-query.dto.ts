import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { TIPO_PATTERN } from '../notification-fields';

/**
 * A query number as plain decimal digits, or the text unchanged for the validators to refuse:
 * `Number()` alone would take `1e1`, `0x10`, ` 5` and `` (as 0).
 */
function plainDigits({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
}

/** `GET list`'s parameters; any other parameter, or one given twice, is refused. */
export class ListQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 100,
    default: 20,
    description: 'Plain decimal digits',
  })
  @IsOptional()
  @Transform(plainDigits)
  @IsInt({ message: 'limit must be a whole number written in plain digits' })
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({ description: 'The next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ type: Boolean, description: 'true: only unread notifications' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean({ message: 'unread must be true or false' })
  unread?: boolean;

  @ApiPropertyOptional({ example: 'pedido', description: 'Only notifications of this kind' })
  @IsOptional()
  @IsString({ message: 'tipo must be 1 to 50 characters of a-z, 0-9, _ and -' })
  @Matches(TIPO_PATTERN, { message: 'tipo must be 1 to 50 characters of a-z, 0-9, _ and -' })
  tipo?: string;
}
