import { Injectable } from '@nestjs/common';
import type { Actor, AuthUser, PlatformRole } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { isUniqueViolation } from '../database/database-errors';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { MembersService } from '../orgs/members.service';
import { SessionService } from '../sessions/session.service';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { ListUsersQuery } from './dto/list-users.query';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UserResponse } from './user.response';
import { USER_SORT_COLUMNS, UserChanges, UsersRepository } from './users.repository';

export interface NewUser {
  email: string;
  password: string;
  name: string;
  role?: PlatformRole;
}

const emailTaken = (): ApiException => ApiException.conflict('A user with this email already exists');

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly members: MembersService,
    private readonly fileDeletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /**
   * Creates a user, in the caller's transaction when one is given (else in its own, once the
   * password is hashed). Taken email → 409.
   */
  async create(input: NewUser, tx?: Transaction): Promise<User> {
    const passwordHash = await this.hasher.hash(input.password);
    const insert = async (into: Transaction): Promise<User> => {
      try {
        const id = await this.users.insert(into, {
          email: input.email,
          name: input.name,
          passwordHash,
          role: input.role ?? 'user',
        });
        return await this.findActive(id, into);
      } catch (error) {
        if (isUniqueViolation(error, 'users_email_key')) throw emailTaken();
        throw error;
      }
    };
    return tx ? insert(tx) : this.unitOfWork.run(insert);
  }

  /** The active user with this email and its password hash, for signing in. */
  findForSignIn(email: string): Promise<(User & { passwordHash: string }) | null> {
    return this.users.findForSignIn(email);
  }

  /**
   * The active user's platform role and password hash, the row locked FOR SHARE until `tx`
   * ends. Starting a session under this lock means that a password change, role change or
   * deletion that committed first is seen here (and the session refused or issued with the new
   * role), and one that comes after waits for the session and then revokes it.
   */
  lockForSession(tx: Transaction, id: string): Promise<{ role: PlatformRole; passwordHash: string } | undefined> {
    return this.users.lockForSession(tx, id);
  }

  passwordHashOf(id: string): Promise<string | undefined> {
    return this.users.passwordHashOf(id);
  }

  /** A new password hash; ending the user's sessions is the caller's rule (it runs in `tx` too). */
  setPassword(tx: Transaction, id: string, passwordHash: string): Promise<void> {
    return this.users.setPassword(tx, id, passwordHash);
  }

  /** The active user (in `tx` when given); 404 otherwise. */
  async findActive(id: string, tx?: Transaction): Promise<User> {
    const user = await this.users.findActive(id, tx);
    if (!user) throw ApiException.notFound('User');
    return user;
  }

  /** A user is visible to itself and to platform admins; to anyone else it does not exist. */
  async get(caller: AuthUser, id: string): Promise<UserResponse> {
    this.assertVisible(caller, id);
    return UserResponse.from(await this.findActive(id));
  }

  list(query: ListUsersQuery): Promise<Page<UserResponse>> {
    const field = query.sort.replace('-', '') as keyof typeof USER_SORT_COLUMNS;
    return this.users.list(
      { q: query.q, role: query.role },
      {
        scope: listScope('users', { q: query.q, role: query.role, sort: query.sort }),
        sortColumn: USER_SORT_COLUMNS[field],
        idColumn: 'u.id',
        direction: query.sort.startsWith('-') ? 'DESC' : 'ASC',
        position: (u) => [field === 'name' ? u.name : u.createdAt.toISOString(), u.id],
        map: UserResponse.from,
        limit: query.limit,
        cursor: query.cursor,
      },
    );
  }

  /**
   * PUT and PATCH. The row is locked while If-Match is compared, so no write slips between the
   * check and the update. Only admins change roles; a new role ends the user's sessions so that
   * tokens carrying the old role stop working.
   */
  async update(caller: AuthUser, id: string, changes: UserChanges, expected: ExpectedVersions): Promise<UserResponse> {
    this.assertVisible(caller, id);
    if (changes.role !== undefined && caller.role !== 'admin')
      throw ApiException.forbidden('Only admins can change a role');
    return this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, id, expected);
      if (Object.keys(changes).length === 0) return UserResponse.from(current);
      let updated: User;
      try {
        updated = await this.users.update(tx, id, changes);
      } catch (error) {
        if (isUniqueViolation(error, 'users_email_key')) throw emailTaken();
        throw error;
      }
      if (changes.role !== undefined && changes.role !== current.role) {
        await this.sessions.revokeAllOfUser(tx, id, 'role_change');
      }
      return UserResponse.from(updated);
    });
  }

  /**
   * Soft-deletes: the account leaves its organizations (409 if it is the last owner of one),
   * sign-in is disabled, sessions end, the email is free again, the avatar is removed.
   */
  async delete(caller: AuthUser, actor: Actor, id: string, expected: ExpectedVersions): Promise<void> {
    this.assertVisible(caller, id);
    await this.unitOfWork.run(async (tx) => {
      await this.lockForChange(tx, id, expected);
      await this.members.leaveAllOrgs(tx, actor, id);
      await this.users.softDelete(tx, id);
      await this.sessions.revokeAllOfUser(tx, id, 'account_deleted');
      this.fileDeletions.drainAfter(tx);
    });
  }

  /** The active user locked FOR UPDATE until `tx` ends, its version matching If-Match (else 412). */
  async lockForChange(tx: Transaction, id: string, expected: ExpectedVersions): Promise<User> {
    const current = await this.users.lockActive(tx, id);
    if (!current) throw ApiException.notFound('User');
    if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
    return current;
  }

  /** Creates the admin if no active user has this email; used at boot and by the CLI. */
  async ensureAdmin(email: string, password: string, name = 'Administrator'): Promise<'created' | 'exists'> {
    if (await this.findForSignIn(email)) return 'exists';
    try {
      await this.create({ email, password, name, role: 'admin' });
      return 'created';
    } catch (error) {
      // Another instance created it at the same moment.
      if (error instanceof ApiException && error.code === 'CONFLICT') return 'exists';
      throw error;
    }
  }

  private assertVisible(caller: AuthUser, id: string): void {
    if (caller.id !== id && caller.role !== 'admin') throw ApiException.notFound('User');
  }
}
