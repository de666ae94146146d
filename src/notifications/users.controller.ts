import {
  BadRequestException,
  Body,
  Controller,
  HttpStatus,
  Param,
  Put,
  Res,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { StaffGuard } from '../auth/staff.guard';
import { ApiErrorResponses } from '../common/api-error-responses.decorator';
import { StrictValidationPipe } from '../common/strict-validation.pipe';
import { PutUserDto, UserResponseDto } from '../users/dto/put-user.dto';
import { UsersService } from '../users/users.service';
import { DeactivationWatcher } from './deactivation.watcher';
import { TakesNoQuery } from '../common/no-query.interceptor';

/**
 * A user id in a path: plain decimal digits, within the users table's `integer`. Read from the
 * path as a string: a `number` parameter would be converted first (`1e3` taken for 1000).
 */
function userId(value: string): number {
  const id = /^\d{1,10}$/.test(value) ? Number(value) : 0;
  if (id < 1 || id > 2_147_483_647) {
    throw new BadRequestException('id must be a user id (1..2147483647, decimal digits)');
  }
  return id;
}

/** How the host system keeps its users in step with this service (ids are the host's). */
@ApiTags('users')
@ApiBearerAuth()
@ApiErrorResponses(400, 401, 403, 413, 429, 503)
@Controller('notifications/api/users')
@UseGuards(JwtAuthGuard, StaffGuard)
// Its own validation too: a host app may bind no pipe (or a laxer one) app-wide.
@UsePipes(StrictValidationPipe)
@TakesNoQuery()
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly deactivation: DeactivationWatcher,
  ) {}

  @Put(':id')
  @ApiOperation({
    summary: 'Create or update a user with the host’s id (staff only)',
    description:
      '200 when the user existed, 201 when it was created. is_active: false takes effect at ' +
      'once: its requests get 401 and its open sockets are closed. 409 when another user has ' +
      'the username.',
  })
  @ApiParam({ name: 'id', example: 12, description: 'The user’s id in the host system' })
  @ApiBody({
    type: PutUserDto,
    examples: {
      active: {
        summary: 'An active user',
        value: { username: 'cocina', is_staff: false, is_active: true },
      },
      deactivated: {
        summary: 'Deactivated: refused at once',
        value: { username: 'antiguo-camarero', is_staff: false, is_active: false },
      },
    },
  })
  @ApiOkResponse({ type: UserResponseDto, description: 'Updated' })
  @ApiCreatedResponse({ type: UserResponseDto, description: 'Created' })
  async put(
    @Param('id') path: string,
    @Body() body: PutUserDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<UserResponseDto> {
    const { user, created } = await this.users.put(userId(path), {
      username: body.username,
      isStaff: body.is_staff,
      isActive: body.is_active,
    });
    if (!user.isActive) this.deactivation.disconnectUser(user.id);
    response.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return {
      id: user.id,
      username: user.username,
      is_staff: user.isStaff,
      is_active: user.isActive,
    };
  }
}
