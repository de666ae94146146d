import { Body, Controller, Get, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import {
  ApiBody,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrorResponses } from '../common/api-error-responses.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { DemoService } from './demo.service';
import { DemoTokenRequestDto, DemoUsersDto, MintedTokenDto } from './dto/demo.dto';
import { LoopbackOnlyGuard } from './loopback-only.guard';

/**
 * The demo page's development helpers: its users and short-lived tokens for them. Mounted in
 * development only (see DemoModule), and even there answered to this machine only.
 */
@ApiTags('demo (development only)')
@ApiErrorResponses(429, 503)
@ApiForbiddenResponse({
  type: ErrorResponseDto,
  description: 'Not from this machine, or relayed by a proxy (a forwarding header is present)',
})
@Controller('demo')
@UseGuards(LoopbackOnlyGuard)
export class DemoUsersController {
  constructor(private readonly demo: DemoService) {}

  @Get('users')
  @ApiOperation({ summary: 'The demo users (creates the basic set on a fresh database)' })
  @ApiOkResponse({ type: DemoUsersDto })
  async users(): Promise<DemoUsersDto> {
    return { users: await this.demo.list() };
  }

  @Post('token')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'A short-lived token for a demo user' })
  @ApiBody({ type: DemoTokenRequestDto, examples: { 'a demo user': { value: { user_id: 1 } } } })
  @ApiOkResponse({ type: MintedTokenDto })
  @ApiErrorResponses(400, 413)
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No active demo user with that id' })
  token(@Body() body: DemoTokenRequestDto): Promise<MintedTokenDto> {
    return this.demo.mint(body.user_id);
  }
}
