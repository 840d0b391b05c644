import { applyDecorators, CanActivate, ExecutionContext, Injectable, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import { notAUuid, UUID_PATTERN } from '../common/http/uuid-param';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import { UsersService } from './users.service';

/**
 * For routes under /users/{id} that only the user or a platform admin may use: a UUID (else
 * 400), the caller is that user or an admin (else 404, as if nobody had the id), and the user
 * exists. Decided from the path and the token before interceptors run, so that an avatar upload
 * is refused before a byte of it is read. The service locks the user again in its transaction.
 */
@Injectable()
export class SelfOrAdminGuard implements CanActivate {
  constructor(private readonly users: UsersService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const id = String(req.params.id);
    if (!UUID_PATTERN.test(id)) throw notAUuid('id');
    // The same rule and the same 404 as GET /users/{id}.
    await this.users.get(req.user!, id.toLowerCase());
    return true;
  }
}

/** `/users/{id}/…` routes for the user themselves or a platform admin. */
export const SelfOrAdmin = (): MethodDecorator => applyDecorators(UseGuards(SelfOrAdminGuard), ApiErrors(404));
