import { CreateUsersAndSessions1763900000000 } from './1763900000000-create-users-and-sessions';
import { CreateOrgsProjectsTasksAudit1763990000000 } from './1763990000000-create-orgs-projects-tasks-audit';

/** Every migration, in order. A new migration is added here as well as in this folder. */
export const MIGRATIONS = [CreateUsersAndSessions1763900000000, CreateOrgsProjectsTasksAudit1763990000000];
