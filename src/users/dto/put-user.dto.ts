import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsString, ValidateBy, ValidationArguments } from 'class-validator';

/** The users table's `varchar(150)`, as Django's own `username`. */
export const USERNAME_MAX_LENGTH = 150;

/**
 * The largest body a valid PUT can take, with room to spare: a username of 150 code points
 * written entirely as \u escapes (12 bytes each outside the BMP, 1,800 bytes) and the two
 * booleans, indented. Over 4 KiB is 413.
 */
export const PUT_USER_BODY_LIMIT = 4 * 1024;

/** Why a username cannot be stored, or undefined: the API's rule, and the command line's. */
export function usernameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'username must be a string';
  // Code points, as PostgreSQL counts them; a NUL is not storable in text.
  const length = [...value].length;
  if (length < 1 || length > USERNAME_MAX_LENGTH) {
    return `username must be 1..${USERNAME_MAX_LENGTH} characters`;
  }
  if (value.includes('\u0000')) return 'username must not contain NUL';
  if (value.trim() !== value) return 'username must not start or end with spaces';
  return undefined;
}

function IsUsername(): PropertyDecorator {
  return ValidateBy({
    name: 'isUsername',
    validator: {
      validate: (value: unknown) => usernameProblem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        usernameProblem(args?.value) ?? 'username is invalid',
    },
  });
}

/** A user as the host system has it; every field is required (`null` is refused). */
export class PutUserDto {
  @ApiProperty({ example: 'cocina', minLength: 1, maxLength: USERNAME_MAX_LENGTH })
  @IsString()
  @IsUsername()
  username!: string;

  @ApiProperty({ example: false, description: 'May send notifications to others' })
  @IsBoolean()
  is_staff!: boolean;

  @ApiProperty({
    example: true,
    description: 'false refuses the user at once: requests get 401, open sockets are closed',
  })
  @IsBoolean()
  is_active!: boolean;
}

export class UserResponseDto {
  @ApiProperty({ example: 12 })
  id!: number;

  @ApiProperty({ example: 'cocina' })
  username!: string;

  @ApiProperty({ example: false })
  is_staff!: boolean;

  @ApiProperty({ example: true })
  is_active!: boolean;
}
