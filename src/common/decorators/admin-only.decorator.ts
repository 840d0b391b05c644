import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ADMIN_ONLY } from './metadata-keys';
import { ApiErrors } from '../swagger/api-errors.decorator';

/** Only platform admins (user role `admin`); everyone else gets 403. */
export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ADMIN_ONLY, true), ApiErrors(403));
