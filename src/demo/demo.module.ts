import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { CommentsModule } from '../comments/comments.module';
import { InvitationsModule } from '../invitations/invitations.module';
import { OrgsModule } from '../orgs/orgs.module';
import { ProjectsModule } from '../projects/projects.module';
import { TasksModule } from '../tasks/tasks.module';
import { UsersModule } from '../users/users.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { DemoDataService } from './demo-data.service';

@Module({
  imports: [
    UsersModule,
    OrgsModule,
    InvitationsModule,
    ApiKeysModule,
    ProjectsModule,
    TasksModule,
    CommentsModule,
    WebhooksModule,
  ],
  providers: [DemoDataService],
  exports: [DemoDataService],
})
export class DemoModule {}
