import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { EmailField } from '../../common/http/validation';
import { NameField, PasswordField } from '../../users/dto/user-fields';
import { UserResponse } from '../../users/user.response';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

export class RegisterDto {
  @EmailField()
  email: string;

  @PasswordField()
  password: string;

  @NameField()
  name: string;
}

export class LoginDto {
  @EmailField()
  email: string;

  @ApiProperty({ maxLength: 128, format: 'password', example: 'correct horse battery' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  password: string;
}

export class RefreshTokenDto {
  @ApiProperty({
    maxLength: 512,
    pattern: STRING_PATTERNS.opaqueToken,
    description: 'The refresh token from sign-in or the last refresh',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  refreshToken: string;
}

export class ChangePasswordDto {
  @ApiProperty({ maxLength: 128, format: 'password' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  currentPassword: string;

  @PasswordField('8 to 128 characters')
  newPassword: string;
}

export class AuthTokensResponse {
  @ApiProperty({ type: UserResponse })
  user: UserResponse;

  @ApiProperty({
    maxLength: 4096,
    pattern: STRING_PATTERNS.jwt,
    description: 'JWT; send as `Authorization: Bearer <token>`',
  })
  accessToken: string;

  @ApiProperty({
    maxLength: 512,
    pattern: STRING_PATTERNS.opaqueToken,
    description: 'Opaque (43 base64url characters today); single use; exchange at /auth/refresh',
  })
  refreshToken: string;

  @ApiProperty({ minimum: 1, description: 'Seconds until the access token expires', example: 900 })
  expiresIn: number;
}
