import { Injectable } from '@nestjs/common';
import { AuthUser } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions } from '../common/http/etag';
import type { StoredFile } from '../common/http/stored-file.response';
import type { ReceivedUpload } from '../common/uploads/file-upload';
import { contentDisposition } from '../common/uploads/filename';
import { EXTENSIONS } from '../common/uploads/content-sniffer';
import { UnitOfWork } from '../database/unit-of-work';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { FileStorage, newStorageKey } from '../storage/file-storage';
import { UserResponse } from './user.response';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/**
 * Profile pictures. Like attachments, the new image is stored first under a reservation, and
 * the user row that names it commits with the claim of that reservation; the replaced image is
 * queued for removal by the database trigger in the same transaction.
 */
@Injectable()
export class AvatarsService {
  constructor(
    private readonly users: UsersService,
    private readonly repository: UsersRepository,
    private readonly storage: FileStorage,
    private readonly fileDeletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Self or admin, as SelfOrAdmin checked before the upload was read. */
  async replace(id: string, file: ReceivedUpload, expected: ExpectedVersions): Promise<UserResponse> {
    const key = newStorageKey('avatars');
    await this.fileDeletions.reserve(key);
    let user;
    try {
      await this.storage.save(key, file.path);
      user = await this.unitOfWork.run(async (tx) => {
        await this.users.lockForChange(tx, id, expected);
        const updated = await this.repository.setAvatar(tx, id, {
          key,
          contentType: file.contentType,
          size: file.size,
          sha256: file.sha256,
        });
        await this.fileDeletions.claim(tx, key);
        // The replaced image was queued by the trigger in this transaction.
        this.fileDeletions.drainAfter(tx);
        return updated;
      });
    } catch (error) {
      await this.fileDeletions.abandon(key);
      throw error;
    }
    return UserResponse.from(user);
  }

  /** Visible to the user, to platform admins and to anyone sharing an organization with the user. */
  async image(caller: AuthUser, id: string): Promise<StoredFile> {
    const row = await this.repository.avatarOf({ id: caller.id, admin: caller.role === 'admin' }, id);
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
