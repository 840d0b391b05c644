import type { PlatformRole } from '../../common/auth/auth-user';
import { EmailField } from '../../common/http/validation';
import { NameField, RoleField } from './user-fields';

/** PUT: every field a user can change. `role` is admin-only; left out, it stays as it is. */
export class ReplaceUserDto {
  @NameField()
  name: string;

  @EmailField()
  email: string;

  @RoleField()
  role?: PlatformRole;
}
