import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { PaginationModule } from '../common/pagination/pagination.module';
import { MembersRepository } from './members.repository';
import { MembersService } from './members.service';
import { MembershipRow } from './membership.entity';
import { Org } from './org.entity';
import { OrgsController } from './orgs.controller';
import { OrgsRepository } from './orgs.repository';
import { OrgsService } from './orgs.service';

@Module({
  imports: [TypeOrmModule.forFeature([Org, MembershipRow]), AuditModule, PaginationModule],
  controllers: [OrgsController],
  providers: [OrgsRepository, OrgsService, MembersRepository, MembersService],
  exports: [OrgsService, MembersService],
})
export class OrgsModule {}
