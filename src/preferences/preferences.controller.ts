import { Body, Controller, Get, Put, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ApiErrorResponses } from '../common/api-error-responses.decorator';
import { PreferencesDto } from './preferences.dto';
import { PreferencesService } from './preferences.service';
import { StrictValidationPipe } from '../common/strict-validation.pipe';
import { TakesNoQuery } from '../common/no-query.interceptor';

@ApiTags('notifications')
@ApiBearerAuth()
@ApiErrorResponses(400, 401, 429, 503)
@Controller('notifications/api/preferences')
@UseGuards(JwtAuthGuard)
// Its own validation too: a host app may bind no pipe (or a laxer one) app-wide.
@UsePipes(StrictValidationPipe)
@TakesNoQuery()
export class PreferencesController {
  constructor(private readonly preferences: PreferencesService) {}

  @Get()
  @ApiOperation({ summary: 'The kinds of notification you silenced' })
  @ApiOkResponse({ type: PreferencesDto })
  async get(@CurrentUser() user: AuthenticatedUser): Promise<PreferencesDto> {
    return { silenciados: await this.preferences.silenced(user.id) };
  }

  @Put()
  @ApiOperation({
    summary: 'Silence kinds of notification (at most 50)',
    description:
      'A notification of a silenced tipo is still stored, already read, and is not pushed live ' +
      'nor replayed on reconnect. Send results count it as created. Unmuting resurrects nothing.',
  })
  @ApiBody({
    type: PreferencesDto,
    examples: {
      mute: { summary: 'Silence stock alerts', value: { silenciados: ['stock'] } },
      none: { summary: 'Silence nothing', value: { silenciados: [] } },
    },
  })
  @ApiOkResponse({ type: PreferencesDto })
  @ApiErrorResponses(413)
  async put(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: PreferencesDto,
  ): Promise<PreferencesDto> {
    return { silenciados: await this.preferences.setSilenced(user.id, body.silenciados) };
  }
}
