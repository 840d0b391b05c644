import { Global, Module } from '@nestjs/common';
import { AccessRepository } from './access.repository';
import { OrgAccessGuard } from './org-access.guard';

/** The access policy's lookups and guards, for every feature module. */
@Global()
@Module({ providers: [AccessRepository, OrgAccessGuard], exports: [AccessRepository, OrgAccessGuard] })
export class AccessModule {}
