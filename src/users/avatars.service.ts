import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthUser } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import type { StoredFile } from '../common/http/stored-file.response';
import type { ReceivedUpload } from '../common/uploads/file-upload';
import { contentDisposition } from '../common/uploads/filename';
import { EXTENSIONS } from '../common/uploads/content-sniffer';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { FileStorage, newStorageKey } from '../storage/file-storage';
import { UserResponse } from './user.response';
import { UsersService } from './users.service';

interface AvatarRow {
  key: string | null;
  contentType: string;
  size: number;
  sha256: string;
}

/**
 * Profile pictures. Like attachments, the new image is stored first under a reservation, and
 * the user row that names it commits with the claim of that reservation; the replaced image is
 * queued for removal by the database trigger in the same transaction.
 */
@Injectable()
export class AvatarsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly storage: FileStorage,
    private readonly fileDeletions: FileDeletionQueue,
  ) {}

  /** Self or admin. */
  /** Self or admin, as SelfOrAdmin checked before the upload was read. */
  async replace(id: string, file: ReceivedUpload, expected: ExpectedVersions): Promise<UserResponse> {
    const key = newStorageKey('avatars');
    await this.fileDeletions.reserve(key);
    let user;
    try {
      await this.storage.save(key, file.path);
      user = await this.dataSource.transaction(async (manager) => {
        const current = await this.users.findActive(id, manager, true);
        if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
        await manager.query(
          `UPDATE users SET avatar_key = $2, avatar_content_type = $3, avatar_size = $4, avatar_sha256 = $5,
                            updated_at = now(), version = version + 1
            WHERE id = $1`,
          [id, key, file.contentType, file.size, file.sha256],
        );
        await this.fileDeletions.claim(manager, key);
        return this.users.findActive(id, manager);
      });
    } catch (error) {
      await this.fileDeletions.abandon(key);
      throw error;
    }
    // The replaced image was queued by the trigger in that transaction.
    await this.fileDeletions.drain();
    return UserResponse.from(user);
  }

  /** Visible to the user, to platform admins and to anyone sharing an organization with the user. */
  async image(caller: AuthUser, id: string): Promise<StoredFile> {
    const [row]: AvatarRow[] = await this.dataSource.query(
      `SELECT u.avatar_key AS key, u.avatar_content_type AS "contentType", u.avatar_size AS size, u.avatar_sha256 AS sha256
         FROM users u
        WHERE u.id = $1 AND u.deleted_at IS NULL
          AND ($3 OR u.id = $2 OR EXISTS (
                SELECT 1 FROM memberships theirs
                  JOIN memberships mine ON mine.org_id = theirs.org_id AND mine.user_id = $2
                 WHERE theirs.user_id = u.id))`,
      [id, caller.id, caller.role === 'admin'],
    );
    if (!row) throw ApiException.notFound('User');
    const { key } = row;
    if (key === null) throw ApiException.notFound('Avatar');
    return {
      size: row.size,
      contentType: row.contentType,
      etag: `"${row.sha256}"`,
      contentDisposition: contentDisposition('inline', `avatar.${EXTENSIONS[row.contentType]}`),
      open: (range) => this.storage.read(key, range),
    };
  }
}
