import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Actor, AuthUser, PlatformRole } from '../common/auth/auth-user';
import { OrgRole } from '../common/tenancy/org-role';
import { AuditService } from '../audit/audit.service';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { CursorPaginator, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { isUniqueViolation } from '../database/database-errors';
import { SessionService } from '../sessions/session.service';
import { ListUsersQuery } from './dto/list-users.query';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UserResponse } from './user.response';
import { FileDeletionQueue } from '../storage/file-deletion.queue';

export interface NewUser {
  email: string;
  password: string;
  name: string;
  role?: PlatformRole;
}

export interface UserChanges {
  name?: string;
  email?: string;
  role?: PlatformRole;
}

const SORT_COLUMNS = { createdAt: 'u.created_at', name: 'u.name' } as const;

const emailTaken = (): ApiException => ApiException.conflict('A user with this email already exists');

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly paginator: CursorPaginator,
    private readonly audit: AuditService,
    private readonly fileDeletions: FileDeletionQueue,
  ) {}

  /** Creates a user, in the caller's transaction when one is given. Taken email → 409. */
  async create(input: NewUser, manager: EntityManager = this.dataSource.manager): Promise<User> {
    const passwordHash = await this.hasher.hash(input.password);
    try {
      const [row]: { id: string }[] = await manager.query(
        'INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id',
        [input.email, input.name, passwordHash, input.role ?? 'user'],
      );
      return await this.findActive(row.id, manager);
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_key')) throw emailTaken();
      throw error;
    }
  }

  /** The active user with this email and its password hash, for signing in. */
  findForSignIn(email: string): Promise<(User & { passwordHash: string }) | null> {
    return this.dataSource
      .createQueryBuilder(User, 'u')
      .addSelect('u.passwordHash')
      .where('u.email = :email AND u.deleted_at IS NULL', { email })
      .getOne() as Promise<(User & { passwordHash: string }) | null>;
  }

  /**
   * The active user's platform role and password hash, the row locked FOR SHARE until the
   * caller's transaction ends. Starting a session under this lock means that a password change,
   * role change or deletion that committed first is seen here (and the session refused or
   * issued with the new role), and one that comes after waits for the session and then revokes it.
   */
  async lockForSession(
    manager: EntityManager,
    id: string,
  ): Promise<{ role: PlatformRole; passwordHash: string } | undefined> {
    const [row]: { role: PlatformRole; password_hash: string }[] = await manager.query(
      'SELECT role, password_hash FROM users WHERE id = $1 AND deleted_at IS NULL FOR SHARE',
      [id],
    );
    return row && { role: row.role, passwordHash: row.password_hash };
  }

  async passwordHashOf(id: string): Promise<string | undefined> {
    const [row]: { password_hash: string }[] = await this.dataSource.query(
      'SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL',
      [id],
    );
    return row?.password_hash;
  }

  async findActive(id: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<User> {
    const qb = manager.createQueryBuilder(User, 'u').where('u.id = :id AND u.deleted_at IS NULL', { id });
    if (lock) qb.setLock('pessimistic_write');
    const user = await qb.getOne();
    if (!user) throw ApiException.notFound('User');
    return user;
  }

  /** A user is visible to itself and to platform admins; to anyone else it does not exist. */
  async get(caller: AuthUser, id: string): Promise<UserResponse> {
    this.assertVisible(caller, id);
    return UserResponse.from(await this.findActive(id));
  }

  list(query: ListUsersQuery): Promise<Page<UserResponse>> {
    const qb = this.dataSource.createQueryBuilder(User, 'u').where('u.deleted_at IS NULL');
    if (query.q) {
      const pattern = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere('(u.name ILIKE :pattern OR u.email ILIKE :pattern)', { pattern });
    }
    if (query.role) qb.andWhere('u.role = :role', { role: query.role });
    const descending = query.sort.startsWith('-');
    const field = query.sort.replace('-', '') as keyof typeof SORT_COLUMNS;
    return this.paginator.paginate(qb, {
      scope: listScope('users', { q: query.q, role: query.role, sort: query.sort }),
      sortColumn: SORT_COLUMNS[field],
      idColumn: 'u.id',
      direction: descending ? 'DESC' : 'ASC',
      position: (u) => [field === 'name' ? u.name : u.createdAt.toISOString(), u.id],
      map: UserResponse.from,
      limit: query.limit,
      cursor: query.cursor,
    });
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
    const { user, revocation } = await this.dataSource.transaction(async (manager) => {
      const current = await this.findActive(id, manager, true);
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      if (Object.keys(changes).length === 0) return { user: current, revocation: undefined };
      const roleChanged = changes.role !== undefined && changes.role !== current.role;
      try {
        await manager
          .createQueryBuilder()
          .update(User)
          .set({ ...changes, updatedAt: () => 'now()', version: () => 'version + 1' })
          .where('id = :id', { id })
          .execute();
      } catch (error) {
        if (isUniqueViolation(error, 'users_email_key')) throw emailTaken();
        throw error;
      }
      const updated = await this.findActive(id, manager);
      return {
        user: updated,
        revocation: roleChanged ? await this.sessions.revokeAllOfUser(manager, id, 'role_change') : undefined,
      };
    });
    if (revocation) this.sessions.applied(revocation);
    return UserResponse.from(user);
  }

  /** Soft-deletes: sign-in is disabled, sessions end, the email is free again, the avatar is removed. */
  async delete(caller: AuthUser, id: string, expected: ExpectedVersions, requestId: string): Promise<void> {
    this.assertVisible(caller, id);
    const revocation = await this.dataSource.transaction(async (manager) => {
      const current = await this.findActive(id, manager, true);
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      await this.leaveOrgs(manager, { userId: caller.id, requestId }, id);
      await manager.query(
        // The avatar goes too: the trigger on users queues its file.
        `UPDATE users SET deleted_at = now(), updated_at = now(), version = version + 1,
                          avatar_key = NULL, avatar_content_type = NULL, avatar_size = NULL, avatar_sha256 = NULL
          WHERE id = $1`,
        [id],
      );
      return this.sessions.revokeAllOfUser(manager, id, 'account_deleted');
    });
    this.sessions.applied(revocation);
    await this.fileDeletions.drain();
  }

  /**
   * A deleted account leaves its organizations (each departure audited), unless it is the last
   * owner of one: then the deletion is refused with 409.
   */
  private async leaveOrgs(manager: EntityManager, actor: Actor, userId: string): Promise<void> {
    // The user's memberships and the co-owners of the orgs it owns, locked in one statement in
    // (org, user) order: two co-owners deleting their accounts at once queue up, and the second
    // is refused (409), instead of both leaving the org without an owner.
    const locked: { org_id: string; user_id: string; role: OrgRole }[] = await manager.query(
      `SELECT org_id, user_id, role FROM memberships
        WHERE user_id = $1
           OR (role = 'owner' AND org_id IN (SELECT org_id FROM memberships WHERE user_id = $1 AND role = 'owner'))
        ORDER BY org_id, user_id FOR UPDATE`,
      [userId],
    );
    const memberships = locked.filter((m) => m.user_id === userId);
    const owned = memberships.filter((m) => m.role === 'owner').map((m) => m.org_id);
    if (owned.length > 0) {
      const [orphaned]: { org_id: string }[] = await manager.query(
        `SELECT o.org_id FROM unnest($1::uuid[]) AS o(org_id)
          WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = o.org_id AND m.role = 'owner' AND m.user_id <> $2)`,
        [owned, userId],
      );
      if (orphaned) {
        throw ApiException.conflict('This user is the last owner of an organization: make someone else owner first');
      }
    }
    await manager.query('DELETE FROM memberships WHERE user_id = $1', [userId]);
    for (const m of memberships) {
      await this.audit.record(manager, actor, {
        orgId: m.org_id,
        action: 'membership.deleted',
        entityType: 'membership',
        entityId: userId,
        changes: { role: [m.role, null] },
      });
    }
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
