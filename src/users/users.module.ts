import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaginationModule } from '../common/pagination/pagination.module';
import { OrgsModule } from '../orgs/orgs.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AdminBootstrap } from './admin-bootstrap';
import { AvatarsController } from './avatars.controller';
import { AvatarsService } from './avatars.service';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';
import { SelfOrAdminGuard } from './user-access.guard';

@Module({
  imports: [TypeOrmModule.forFeature([User]), SessionsModule, OrgsModule, PaginationModule],
  controllers: [UsersController, AvatarsController],
  providers: [UsersRepository, UsersService, AvatarsService, PasswordHasher, AdminBootstrap, SelfOrAdminGuard],
  exports: [UsersService, PasswordHasher],
})
export class UsersModule {}
