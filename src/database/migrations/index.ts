import { CreateUsersAndSessions1763900000000 } from './1763900000000-create-users-and-sessions';
import { CreateOrgsProjectsTasksAudit1763990000000 } from './1763990000000-create-orgs-projects-tasks-audit';
import { CreateCommentsAttachmentsAvatars1764000000000 } from './1764000000000-create-comments-attachments-avatars';
import { IdempotencyClaimsAndFileReservations1764200000000 } from './1764200000000-idempotency-claims-and-file-reservations';
import { RecordGeneratedColumnExpressions1764300000000 } from './1764300000000-record-generated-column-expressions';
import { AuditTrailAppendOnly1764400000000 } from './1764400000000-audit-trail-append-only';
import { SessionClientDetails1764500000000 } from './1764500000000-session-client-details';
import { InvitationsAndPasswordResets1764600000000 } from './1764600000000-invitations-and-password-resets';
import { ApiKeysAndActorTypes1764700000000 } from './1764700000000-api-keys-and-actor-types';
import { Webhooks1764800000000 } from './1764800000000-webhooks';
import { PlanCachedLookups1764900000000 } from './1764900000000-plan-cached-lookups';
import { ListIndexPaths1765000000000 } from './1765000000000-list-index-paths';
import { OrderedFilterIndexes1765100000000 } from './1765100000000-ordered-filter-indexes';

/** Every migration, in order. A new migration is added here as well as in this folder. */
export const MIGRATIONS = [
  CreateUsersAndSessions1763900000000,
  CreateOrgsProjectsTasksAudit1763990000000,
  CreateCommentsAttachmentsAvatars1764000000000,
  IdempotencyClaimsAndFileReservations1764200000000,
  RecordGeneratedColumnExpressions1764300000000,
  AuditTrailAppendOnly1764400000000,
  SessionClientDetails1764500000000,
  InvitationsAndPasswordResets1764600000000,
  ApiKeysAndActorTypes1764700000000,
  Webhooks1764800000000,
  PlanCachedLookups1764900000000,
  ListIndexPaths1765000000000,
  OrderedFilterIndexes1765100000000,
];
