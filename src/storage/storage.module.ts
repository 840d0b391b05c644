import { Global, Module } from '@nestjs/common';
import { resolve } from 'node:path';
import { AppConfig } from '../config/app-config';
import { FileDeletionQueue } from './file-deletion.queue';
import { FileDeletionsRepository } from './file-deletions.repository';
import { FileStorage } from './file-storage';
import { IncomingFiles } from './incoming-files';
import { LocalFileStorage } from './local-file.storage';

/** File storage for uploads: the local folder driver (UPLOAD_DIR), the folder of arriving uploads and the deletion queue. */
@Global()
@Module({
  providers: [
    {
      provide: FileStorage,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new LocalFileStorage(resolve(config.env.UPLOAD_DIR)),
    },
    FileDeletionsRepository,
    FileDeletionQueue,
    IncomingFiles,
  ],
  exports: [FileStorage, FileDeletionQueue, IncomingFiles],
})
export class StorageModule {}
