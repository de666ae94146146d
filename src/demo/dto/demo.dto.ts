import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';

/** `{"user_id": n}` fits with room to spare; nothing larger is a valid token request. */
export const DEMO_TOKEN_BODY_LIMIT = 1024;

export class DemoUserDto {
  @ApiProperty({ example: 1 })
  id!: number;

  @ApiProperty({ example: 'demo-gerente' })
  username!: string;

  @ApiProperty({ example: true })
  is_staff!: boolean;
}

export class DemoUsersDto {
  @ApiProperty({ type: [DemoUserDto], description: 'Active demo users, staff first' })
  users!: DemoUserDto[];
}

export class DemoTokenRequestDto {
  @ApiProperty({ example: 1, minimum: 1, description: 'The id of an active demo user' })
  @IsInt()
  @Min(1)
  // Users' ids are PostgreSQL integers: a larger one names no user (400, not the database's error).
  @Max(2_147_483_647)
  user_id!: number;
}

export class MintedTokenDto {
  @ApiProperty({ description: 'A bearer token (HS256 JWT) for that user' })
  token!: string;

  @ApiProperty({ example: 900, description: 'Seconds until it expires' })
  expires_in!: number;

  @ApiProperty({ type: DemoUserDto })
  user!: DemoUserDto;
}
