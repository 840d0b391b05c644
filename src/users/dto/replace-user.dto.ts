import { PickType } from '@nestjs/swagger';
import { CreateUserDto } from './create-user.dto';

/**
 * PUT: every field a user can change (the password changes through /auth/password). `role` is
 * admin-only; left out, it stays as it is.
 */
export class ReplaceUserDto extends PickType(CreateUserDto, ['email', 'name', 'role'] as const) {}
