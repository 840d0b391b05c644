import { CreateUsersAndSessions1763900000000 } from './1763900000000-create-users-and-sessions';

/** Every migration, in order. A new migration is added here as well as in this folder. */
export const MIGRATIONS = [CreateUsersAndSessions1763900000000];
