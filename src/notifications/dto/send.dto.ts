import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidationArguments,
} from 'class-validator';
import { SendResponse } from '../events';
import { MENSAJE_MAX_LENGTH, mensajeProblem } from '../mensaje';
import {
  DATOS_MAX_BYTES,
  datosProblem,
  TIPO_DEFAULT,
  TIPO_PATTERN,
  tipoProblem,
  URL_MAX_LENGTH,
  urlProblem,
} from '../notification-fields';

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

/** A field checked by one of the contract's rules, which also words the 400. */
function Satisfies(
  name: string,
  problem: (value: unknown) => string | undefined,
): PropertyDecorator {
  return ValidateBy({
    name,
    validator: {
      validate: (value: unknown) => problem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) => problem(args?.value) ?? `${name} failed`,
    },
  });
}

/** `mensaje` as the contract bounds it (code points, no NUL). */
function IsMensaje(): PropertyDecorator {
  return Satisfies('isMensaje', mensajeProblem);
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

  @ApiPropertyOptional({
    example: 'pedido',
    pattern: TIPO_PATTERN.source,
    default: TIPO_DEFAULT,
    description: 'What kind of notification it is',
  })
  @IsOptionalButNotNull()
  @Satisfies('isTipo', tipoProblem)
  tipo?: string;

  @ApiPropertyOptional({
    example: '/pedidos/42',
    maxLength: URL_MAX_LENGTH,
    description:
      'Where the frontend goes when it is clicked: a path starting with /, or an http(s):// URL',
  })
  @IsOptionalButNotNull()
  @Satisfies('isUrl', urlProblem)
  url?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { pedido: 42 },
    description: `A JSON object for the frontend's own use, at most ${DATOS_MAX_BYTES} bytes serialized`,
  })
  @IsOptionalButNotNull()
  // Declared an object, so the body's shape check lets it hold nested values.
  @IsObject({ message: 'datos must be a JSON object' })
  @Satisfies('isDatos', datosProblem)
  datos?: Record<string, unknown>;
}

export class SendResponseDto implements SendResponse {
  @ApiProperty({ example: 2 })
  created!: number;

  @ApiProperty({ type: [Number], example: [10, 11], description: 'In the order of usuarios' })
  ids!: number[];
}
