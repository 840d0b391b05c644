import type { PlatformRole } from '../../common/auth/auth-user';
import { EmailField, NameField, PasswordField, RoleField } from './user-fields';

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
