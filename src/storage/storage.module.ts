import { Global, Module } from '@nestjs/common';
import { resolve } from 'node:path';
import { AppConfig } from '../config/app-config';
import { FileDeletionQueue } from './file-deletion.queue';
import { FileDeletionsRepository } from './file-deletions.repository';
import { FileStorage } from './file-storage';
import { IncomingFiles } from './incoming-files';
import { LocalFileStorage } from './local-file.storage';
import { S3FileStorage } from './s3-file.storage';

/**
 * File storage for uploads: the driver STORAGE_DRIVER names (the local folder UPLOAD_DIR, or an
 * S3 bucket), the folder of arriving uploads (always local: UPLOAD_DIR/incoming, where uploads
 * are received and checked before they are stored) and the deletion queue.
 */
@Global()
@Module({
  providers: [
    {
      provide: FileStorage,
      inject: [AppConfig],
      useFactory: ({ env }: AppConfig): FileStorage =>
        env.STORAGE_DRIVER === 's3'
          ? S3FileStorage.fromEnvironment(env)
          : new LocalFileStorage(resolve(env.UPLOAD_DIR)),
    },
    FileDeletionsRepository,
    FileDeletionQueue,
    IncomingFiles,
  ],
  exports: [FileStorage, FileDeletionQueue, IncomingFiles],
})
export class StorageModule {}
