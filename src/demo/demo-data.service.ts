import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Actor } from '../common/auth/auth-user';
import { CommentsService } from '../comments/comments.service';
import { ApiException } from '../common/http/api-exception';
import { AppConfig } from '../config/app-config';
import { InvitationsService } from '../invitations/invitations.service';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { MembersService } from '../orgs/members.service';
import { OrgsService } from '../orgs/orgs.service';
import { ProjectsService } from '../projects/projects.service';
import { TaskPriority, TaskStatus } from '../tasks/task.entity';
import { TasksService } from '../tasks/tasks.service';
import { UsersService } from '../users/users.service';
import { WebhooksService } from '../webhooks/webhooks.service';

export const DEMO_USER = { email: 'demo@tasklane.dev', password: 'tasklane-demo-1', name: 'Dana Demo' };
export const DEMO_COLLEAGUE = { email: 'sam@tasklane.dev', password: 'tasklane-demo-1', name: 'Sam Colleague' };
/** Invited, without an account yet: register with this email to accept (the link is in the mail, or the log). */
export const DEMO_INVITEE = 'robin@tasklane.dev';

const TASKS: [string, string, TaskStatus, TaskPriority, string[], number | null][] = [
  ['Set up CI', 'Run lint, type-check and tests on every push', 'done', 'high', ['infra'], -10],
  ['Design the login page', 'Email and password, with a forgotten-password link', 'in_progress', 'medium', ['ui'], 3],
  ['Rate-limit sign-in', 'Per IP and per account', 'todo', 'urgent', ['security', 'backend'], 1],
  ['Write the API guide', 'Envelopes, pagination, ETags, idempotency keys', 'todo', 'low', ['docs'], 14],
  ['Fix the flaky export test', 'It fails about once in twenty runs', 'todo', 'high', ['backend', 'bug'], null],
  ['Dark mode', 'Follow the system setting', 'canceled', 'low', ['ui'], null],
];

/** The demo org's webhook: inactive, so that it calls nobody until someone points it at their own receiver. */
export const DEMO_WEBHOOK = {
  url: 'https://hooks.example.com/tasklane',
  events: ['task.created', 'task.updated', 'comment.created'],
  description: 'Demo: inactive. Point it at your receiver (PATCH url, active: true) to see events arrive.',
  active: false,
};

/** A member-role API key of the demo org, for trying `Authorization: Bearer tl_…`. */
export const DEMO_API_KEY_NAME = 'Demo integration';

export type DemoSeed = { outcome: 'created'; apiKeyToken: string } | { outcome: 'exists' };

/** What seeding prints, once: how to sign in, and the demo API key (never shown again). */
export function demoSummary(apiKeyToken: string): string {
  return `Demo data created: sign in as ${DEMO_USER.email} / ${DEMO_USER.password}; the demo org's API key (role member, shown only now): ${apiKeyToken}`;
}

/**
 * Demo data for trying the API in Swagger UI: two users, an org, a pending invitation, an API key, an inactive webhook, two projects,
 * some tasks and comments,
 * made through the same services (and rules, and audit trail) as the API. Does nothing if the
 * demo user already exists. `npm run seed:demo`, or SEED_DEMO=true at boot.
 */
@Injectable()
export class DemoDataService implements OnApplicationBootstrap {
  private readonly logger = new Logger(DemoDataService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly orgs: OrgsService,
    private readonly members: MembersService,
    private readonly invitations: InvitationsService,
    private readonly apiKeys: ApiKeysService,
    private readonly projects: ProjectsService,
    private readonly tasks: TasksService,
    private readonly comments: CommentsService,
    private readonly webhooks: WebhooksService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.env.SEED_DEMO) return;
    const seeded = await this.seed();
    if (seeded.outcome === 'created') this.logger.log(demoSummary(seeded.apiKeyToken));
  }

  /** The demo API key's token exists only in what this returns: it is printed once, then only its hash remains. */
  async seed(): Promise<DemoSeed> {
    if (await this.users.findForSignIn(DEMO_USER.email)) return { outcome: 'exists' };
    let dana;
    try {
      dana = await this.users.create(DEMO_USER);
    } catch (error) {
      // Another instance is seeding at the same moment.
      if (error instanceof ApiException && error.code === 'CONFLICT') return { outcome: 'exists' };
      throw error;
    }
    const sam = (await this.users.findForSignIn(DEMO_COLLEAGUE.email)) ?? (await this.users.create(DEMO_COLLEAGUE));
    const actor: Actor = { kind: 'user', id: dana.id, requestId: 'seed-demo' };

    const org = await this.orgs.create(actor, { name: 'Demo Company', slug: undefined });
    const asOwner = { orgId: org.id, role: 'owner' } as const;
    await this.members.add(actor, asOwner, DEMO_COLLEAGUE.email, 'member');
    await this.invitations.create(actor, asOwner, { email: DEMO_INVITEE, role: 'viewer' });
    const apiKey = await this.apiKeys.create(actor, org.id, { name: DEMO_API_KEY_NAME, role: 'member' });
    // Its URL is checked like any (with WEBHOOK_ALLOW_PRIVATE_TARGETS=false its name must resolve):
    // the demo goes on without it when it cannot be saved.
    await this.webhooks.create(actor, org.id, DEMO_WEBHOOK).catch((error: Error) => {
      this.logger.warn(`Demo webhook not created: ${error.message}`);
    });
    const web = await this.projects.create(actor, org.id, {
      key: 'WEB',
      name: 'Website',
      description: 'The public site',
    });
    const api = await this.projects.create(actor, org.id, { key: 'API', name: 'API', description: 'The backend' });

    const today = Date.now();
    for (const [index, [title, description, status, priority, labels, dueInDays]] of TASKS.entries()) {
      const task = await this.tasks.create(actor, index % 2 === 0 ? api.id : web.id, {
        title,
        description,
        status,
        priority,
        labels,
        assigneeId: index % 3 === 0 ? sam.id : dana.id,
        dueDate: dueInDays === null ? null : new Date(today + dueInDays * 86_400_000).toISOString().slice(0, 10),
      });
      if (index === 2) {
        await this.comments.create(actor, task.id, { body: 'Should the per-account limit count per IP too?' });
        await this.comments.create({ kind: 'user', id: sam.id, requestId: 'seed-demo' }, task.id, {
          body: 'Yes, so that nobody can lock someone else out.',
        });
      }
    }
    return { outcome: 'created', apiKeyToken: apiKey.token };
  }
}
