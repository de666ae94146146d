import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  isInt,
  IsOptional,
  IsString,
  Matches,
  matches,
  Max,
  max,
  MaxLength,
  maxLength,
  Min,
  min,
} from 'class-validator';
import { checkedByHand } from '../../common/strict-validation.pipe';
import { TIPO_PATTERN } from '../notification-fields';

const LIMIT_MESSAGE = 'limit must be a whole number written in plain digits';
const UNREAD_MESSAGE = 'unread must be true or false';
const TIPO_MESSAGE = 'tipo must be 1 to 50 characters of a-z, 0-9, _ and -';
const PLAIN_DIGITS = /^[0-9]{1,15}$/;

/**
 * A query number as plain decimal digits, or the text unchanged for the validators to refuse:
 * `Number()` alone would take `1e1`, `0x10`, ` 5` and `` (as 0).
 */
function plainDigits({ value }: { value: unknown }): unknown {
  return typeof value === 'string' && PLAIN_DIGITS.test(value) ? Number(value) : value;
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
  @IsInt({ message: LIMIT_MESSAGE })
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
  @IsBoolean({ message: UNREAD_MESSAGE })
  unread?: boolean;

  @ApiPropertyOptional({ example: 'pedido', description: 'Only notifications of this kind' })
  @IsOptional()
  @IsString({ message: TIPO_MESSAGE })
  @Matches(TIPO_PATTERN, { message: TIPO_MESSAGE })
  tipo?: string;
}

/**
 * ListQueryDto's decorators, checked by hand for a query of text (what Express's query parser
 * makes; anything else is left to class-validator): the same instance, or the same messages in
 * the order class-validator gives them (per parameter in declaration order, each parameter's
 * constraints from its last decorator up), with class-validator's own checks for each rule.
 * The list is the route clients call most; the decorators stay the definition (and the docs).
 */
export function checkListQuery(
  query: Record<string, unknown>,
): ListQueryDto | string[] | undefined {
  const { limit, cursor, unread, tipo } = query;
  for (const value of [limit, cursor, unread, tipo]) {
    if (value !== undefined && typeof value !== 'string') return undefined;
  }
  const dto = new ListQueryDto();
  const problems: string[] = [];
  if (typeof limit === 'string') {
    const value = plainDigits({ value: limit });
    if (!max(value, 100)) problems.push('limit must not be greater than 100');
    if (!min(value, 1)) problems.push('limit must not be less than 1');
    if (!isInt(value)) problems.push(LIMIT_MESSAGE);
    dto.limit = value as number;
  }
  if (typeof cursor === 'string') {
    if (!maxLength(cursor, 200))
      problems.push('cursor must be shorter than or equal to 200 characters');
    dto.cursor = cursor;
  }
  if (typeof unread === 'string') {
    if (unread === 'true') dto.unread = true;
    else if (unread === 'false') dto.unread = false;
    else problems.push(UNREAD_MESSAGE);
  }
  if (typeof tipo === 'string') {
    if (!matches(tipo, TIPO_PATTERN)) problems.push(TIPO_MESSAGE);
    dto.tipo = tipo;
  }
  return problems.length > 0 ? problems : dto;
}

checkedByHand(ListQueryDto, checkListQuery);
