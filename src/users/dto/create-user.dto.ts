import type { PlatformRole } from '../../common/auth/auth-user';
import { EmailField } from '../../common/http/validation';
import { NameField, PasswordField, RoleField } from './user-fields';

export class CreateUserDto {
  @EmailField()
  email: string;

  @PasswordField()
  password: string;

  @NameField()
  name: string;

  @RoleField()
  role?: PlatformRole;
}
