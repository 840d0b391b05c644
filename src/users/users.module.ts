import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SessionsModule } from '../sessions/sessions.module';
import { PaginationModule } from '../common/pagination/pagination.module';
import { AuditModule } from '../audit/audit.module';
import { AdminBootstrap } from './admin-bootstrap';
import { AvatarsController } from './avatars.controller';
import { AvatarsService } from './avatars.service';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';
import { SelfOrAdminGuard } from './user-access.guard';

@Module({
  imports: [TypeOrmModule.forFeature([User]), SessionsModule, PaginationModule, AuditModule],
  controllers: [UsersController, AvatarsController],
  providers: [UsersService, AvatarsService, PasswordHasher, AdminBootstrap, SelfOrAdminGuard],
  exports: [UsersService, PasswordHasher],
})
export class UsersModule {}
