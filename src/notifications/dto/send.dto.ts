import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidationArguments,
} from 'class-validator';
import { SendResponse } from '../events';
import { MENSAJE_MAX_LENGTH, mensajeProblem } from '../mensaje';

export const SEND_MAX_USUARIOS = 10_000;

/**
 * The largest body a valid send can take, with room to spare: 10,000 user ids of up to 10
 * digits, each on its own indented line (16 bytes), and a mensaje of 10,000 code points written
 * entirely as \u escapes (12 bytes for a code point outside the BMP, as a surrogate pair), plus
 * 64 KiB for the other fields: about 346 KB. Over 384 KiB is 413.
 */
export const SEND_BODY_LIMIT = 384 * 1024;

/**
 * Validates the field whenever it is present: unlike `@IsOptional()`, a `null` is not taken for
 * an absent field but checked, and refused, like any other wrong value.
 */
function IsOptionalButNotNull(): PropertyDecorator {
  return (target, property) =>
    ValidateIf((dto: object) => (dto as Record<string | symbol, unknown>)[property] !== undefined)(
      target,
      property,
    );
}

/** `mensaje` as the contract bounds it (code points, no NUL). */
function IsMensaje(): PropertyDecorator {
  return ValidateBy({
    name: 'isMensaje',
    validator: {
      validate: (value: unknown) => mensajeProblem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        mensajeProblem(args?.value) ?? 'mensaje is invalid',
    },
  });
}

/** Exactly one audience: a list of users or all staff. */
function NotWithUsuarios(): PropertyDecorator {
  return ValidateBy({
    name: 'notWithUsuarios',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) =>
        (args?.object as SendDto | undefined)?.usuarios === undefined,
      defaultMessage: () => 'send either usuarios or staff, not both',
    },
  });
}

/** Exactly one audience, `usuarios` or `staff: true`; `null` is refused in every field. */
export class SendDto {
  @ApiPropertyOptional({ type: [Number], example: [4, 5], maxItems: SEND_MAX_USUARIOS })
  @ValidateIf((dto: SendDto) => dto.staff === undefined || dto.usuarios !== undefined)
  @IsArray({ message: 'usuarios must be an array of user ids (or send staff: true)' })
  @ArrayMinSize(1)
  @ArrayMaxSize(SEND_MAX_USUARIOS)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(2_147_483_647, { each: true })
  usuarios?: number[];

  @ApiPropertyOptional({
    enum: [true],
    description: 'Send to every active staff user instead (exactly true; not with usuarios)',
  })
  @IsOptionalButNotNull()
  @IsIn([true], { message: 'staff must be true (or leave it out and send usuarios)' })
  @NotWithUsuarios()
  staff?: true;

  @ApiProperty({
    example: 'Pedido #42 listo para servir',
    minLength: 1,
    maxLength: MENSAJE_MAX_LENGTH,
  })
  @IsMensaje()
  mensaje!: string;
}

export class SendResponseDto implements SendResponse {
  @ApiProperty({ example: 2 })
  created!: number;

  @ApiProperty({ type: [Number], example: [10, 11], description: 'In the order of usuarios' })
  ids!: number[];
}
