import { ApiProperty } from '@nestjs/swagger';
import { EmailField, LinkTokenField } from '../../common/http/validation';
import { PasswordField } from '../../users/dto/user-fields';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

export class RequestPasswordResetDto {
  @EmailField()
  email: string;
}

export class ConfirmPasswordResetDto {
  @LinkTokenField('password reset')
  token: string;

  @PasswordField('8 to 128 characters')
  newPassword: string;
}

/** The same answer whether or not an account has the email. */
export class PasswordResetRequestedResponse {
  @ApiProperty({
    maxLength: 200,
    pattern: STRING_PATTERNS.text,
    example: 'If an account uses this email, a link to reset its password is on its way',
  })
  message: string;
}
