import type { PlatformRole } from '../../common/auth/auth-user';
import { EmailField, NameField, RoleField } from './user-fields';

/** PATCH: any subset of the fields of PUT. */
export class UpdateUserDto {
  @NameField(true)
  name?: string;

  @EmailField(true)
  email?: string;

  @RoleField()
  role?: PlatformRole;
}
