/**
 * One SQL statement. `name` marks a hot, fixed statement that each connection may parse and
 * plan once (a named prepared statement); whether names are used is decided by Database, not by
 * the repository that wrote the statement. Where names cannot be used (behind a transaction
 * pooler), `planCached` is the same statement as a call of a PL/pgSQL function, whose query
 * PostgreSQL plans once per server connection: the hottest lookups have one.
 */
export interface Statement {
  text: string;
  values?: unknown[];
  name?: string;
  /** The same rows from a server-side function (same values), for where names cannot be used. */
  planCached?: string;
}
