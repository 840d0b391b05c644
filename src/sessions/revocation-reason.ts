/** Why a session ended, as `session_families.revoked_reason` records it. */
export type RevocationReason =
  | 'logout'
  | 'reuse'
  | 'password_change'
  | 'role_change'
  | 'account_deleted'
  | 'session_revoked'
  | 'logout_all'
  | 'password_reset';
