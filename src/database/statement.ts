/**
 * One SQL statement. `name` marks a hot, fixed statement that each connection may parse and
 * plan once (a named prepared statement); whether names are used is decided here, not by the
 * repository that wrote the statement.
 */
export interface Statement {
  text: string;
  values?: unknown[];
  name?: string;
}
