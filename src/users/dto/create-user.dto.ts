import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { PLATFORM_ROLES, PlatformRole } from '../../common/auth/auth-user';
import { OptionalField } from '../../common/http/validation';
import { EmailField, NameField, PasswordField } from './user-fields';

export class CreateUserDto {
  @EmailField()
  email: string;

  @PasswordField()
  password: string;

  @NameField()
  name: string;

  @ApiPropertyOptional({
    enum: PLATFORM_ROLES,
    enumName: 'PlatformRole',
    description: 'Platform role; only admins may set it',
  })
  @OptionalField()
  @IsIn(PLATFORM_ROLES)
  role?: PlatformRole;
}
