import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository, SelectQueryBuilder } from 'typeorm';
import { joinMembership } from '../access/membership-lookup';
import type { PlatformRole } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import { User } from './user.entity';

export interface NewUserRow {
  email: string;
  name: string;
  passwordHash: string;
  role: PlatformRole;
}

export type UserChanges = Partial<Pick<User, 'name' | 'email' | 'role'>>;

export interface UserFilters {
  /** Matches name or email, case-insensitively, anywhere in them. */
  q?: string;
  role?: PlatformRole;
}

export interface Avatar {
  key: string;
  contentType: string;
  size: number;
  sha256: string;
}

/** An avatar as the users row holds it: no key when the user has none. */
export type StoredAvatar = Omit<Avatar, 'key'> & { key: string | null };

/** Who is looking at an avatar. */
export interface AvatarViewer {
  id: string;
  admin: boolean;
}

/** Sort → column. */
export const USER_SORT_COLUMNS = { createdAt: 'u.created_at', name: 'u.name' } as const;

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** All SQL for the users table (avatar columns included). Only active (not deleted) users are read. */
@Injectable()
export class UsersRepository {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  /** The new user's id. A taken email fails on users_email_key. */
  async insert(tx: Transaction, user: NewUserRow): Promise<string> {
    const [row] = await tx.rows<{ id: string }>({
      text: 'INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id',
      values: [user.email, user.name, user.passwordHash, user.role],
    });
    return row.id;
  }

  /** In `tx` when one is given, else on the pool. */
  findActive(id: string, tx?: Transaction): Promise<User | null> {
    return this.active(tx?.manager).andWhere('u.id = :id', { id }).getOne();
  }

  /** The same, the row locked FOR UPDATE until `tx` ends. */
  lockActive(tx: Transaction, id: string): Promise<User | null> {
    return this.active(tx.manager).andWhere('u.id = :id', { id }).setLock('pessimistic_write').getOne();
  }

  /** The active user with this email, its password hash included. */
  findForSignIn(email: string): Promise<(User & { passwordHash: string }) | null> {
    return this.active().addSelect('u.passwordHash').andWhere('u.email = :email', { email }).getOne() as Promise<
      (User & { passwordHash: string }) | null
    >;
  }

  /** The active user's role and password hash, the row locked FOR SHARE until `tx` ends. */
  async lockForSession(tx: Transaction, id: string): Promise<{ role: PlatformRole; passwordHash: string } | undefined> {
    const [row] = await tx.rows<{ role: PlatformRole; passwordHash: string }>({
      text: 'SELECT role, password_hash AS "passwordHash" FROM users WHERE id = $1 AND deleted_at IS NULL FOR SHARE',
      values: [id],
    });
    return row;
  }

  async passwordHashOf(id: string): Promise<string | undefined> {
    const [row] = await this.db.rows<{ password_hash: string }>({
      text: 'SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL',
      values: [id],
    });
    return row?.password_hash;
  }

  list<Item>(filters: UserFilters, page: KeysetPage<User, Item>): Promise<Page<Item>> {
    const qb = this.active();
    if (filters.q) {
      qb.andWhere('(u.name ILIKE :pattern OR u.email ILIKE :pattern)', { pattern: `%${escapeLike(filters.q)}%` });
    }
    if (filters.role) qb.andWhere('u.role = :role', { role: filters.role });
    return this.paginator.page(page, (w) =>
      qb.andWhere(w.where, w.parameters).orderBy(w.order).limit(w.limit).getMany(),
    );
  }

  /** Sets the given fields, bumps the version; the user as it now is. */
  async update(tx: Transaction, id: string, changes: UserChanges): Promise<User> {
    await tx.manager
      .createQueryBuilder()
      .update(User)
      .set({ ...changes, updatedAt: () => 'now()', version: () => 'version + 1' })
      .where('id = :id', { id })
      .execute();
    return (await this.findActive(id, tx))!;
  }

  async setPassword(tx: Transaction, id: string, passwordHash: string): Promise<void> {
    await tx.affected({
      text: 'UPDATE users SET password_hash = $2, updated_at = now(), version = version + 1 WHERE id = $1',
      values: [id, passwordHash],
    });
  }

  /** Names the new image; the trigger on users queues the replaced one's file. The user as it now is. */
  async setAvatar(tx: Transaction, id: string, avatar: Avatar): Promise<User> {
    await tx.affected({
      text: `UPDATE users SET avatar_key = $2, avatar_content_type = $3, avatar_size = $4, avatar_sha256 = $5,
                              updated_at = now(), version = version + 1
              WHERE id = $1`,
      values: [id, avatar.key, avatar.contentType, avatar.size, avatar.sha256],
    });
    return (await this.findActive(id, tx))!;
  }

  /** Soft-deletes: the email is free again, and the avatar goes too (the trigger on users queues its file). */
  async softDelete(tx: Transaction, id: string): Promise<void> {
    await tx.affected({
      text: `UPDATE users SET deleted_at = now(), updated_at = now(), version = version + 1,
                              avatar_key = NULL, avatar_content_type = NULL, avatar_size = NULL, avatar_sha256 = NULL
              WHERE id = $1`,
      values: [id],
    });
  }

  /**
   * The avatar of an active user the viewer may see (themselves, a platform admin, or a member
   * of an org the user belongs to), in one statement: undefined when the user is not visible,
   * a null key when it has no avatar.
   */
  async avatarOf(viewer: AvatarViewer, id: string): Promise<StoredAvatar | undefined> {
    const [row] = await this.db.rows<StoredAvatar>({
      text: `SELECT u.avatar_key AS key, u.avatar_content_type AS "contentType", u.avatar_size AS size, u.avatar_sha256 AS sha256
               FROM users u
              WHERE u.id = $1 AND u.deleted_at IS NULL
                AND ($3 OR u.id = $2 OR EXISTS (
                      SELECT 1 FROM memberships theirs ${joinMembership('theirs.org_id', '$2')}
                       WHERE theirs.user_id = u.id))`,
      values: [id, viewer.id, viewer.admin],
    });
    return row;
  }

  private active(manager: EntityManager = this.users.manager): SelectQueryBuilder<User> {
    return manager.createQueryBuilder(User, 'u').where('u.deleted_at IS NULL');
  }
}
