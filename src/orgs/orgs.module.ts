import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { PaginationModule } from '../common/pagination/pagination.module';
import { MembersService } from './members.service';
import { MembershipRow } from './membership.entity';
import { Org } from './org.entity';
import { OrgsController } from './orgs.controller';
import { OrgsService } from './orgs.service';

@Module({
  imports: [TypeOrmModule.forFeature([Org, MembershipRow]), AuditModule, PaginationModule],
  controllers: [OrgsController],
  providers: [OrgsService, MembersService],
  exports: [OrgsService, MembersService],
})
export class OrgsModule {}
