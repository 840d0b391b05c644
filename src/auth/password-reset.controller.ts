import { Body, Controller, HttpCode, HttpStatus, Ip, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/decorators/public.decorator';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope } from '../common/swagger/envelope.schemas';
import {
  ConfirmPasswordResetDto,
  PasswordResetRequestedResponse,
  RequestPasswordResetDto,
} from './dto/password-reset.dto';
import { PasswordResetService } from './password-reset.service';

const REQUESTED: PasswordResetRequestedResponse = {
  message: 'If an account uses this email, a link to reset its password is on its way',
};

@ApiTags('auth')
@ApiErrors(400)
@Controller('auth/password-reset')
export class PasswordResetController {
  constructor(private readonly resets: PasswordResetService) {}

  @Post()
  @Public()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Ask for a password reset link by email (public)',
    description:
      'The same 202 and body whether or not an account has the email; when one does, a mail with a link to `{APP_URL}/reset-password?token=…` (valid 30 minutes, once) follows, at most 3 an hour to one account. Rate-limited like signing in (with counters of its own).',
  })
  @ApiEnvelope(PasswordResetRequestedResponse, HttpStatus.ACCEPTED, 'Accepted (whether or not the account exists)')
  async request(@Body() body: RequestPasswordResetDto, @Ip() ip: string): Promise<PasswordResetRequestedResponse> {
    await this.resets.request(body.email, ip);
    return REQUESTED;
  }

  @Post('confirm')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Set a new password with the token from the reset mail (public)',
    description: 'Every session of the account ends. 404 for an unknown, used or expired token.',
  })
  @ApiNoContent('Password changed; sign in with it')
  @ApiErrors(404)
  async confirm(@Body() body: ConfirmPasswordResetDto, @Ip() ip: string): Promise<void> {
    await this.resets.confirm(body.token, body.newPassword, ip);
  }
}
