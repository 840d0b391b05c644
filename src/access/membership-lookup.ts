/**
 * The membership lookup, written once: the principal's membership of the org named by
 * `orgColumn` (alias `m`, its role as `m.role`), from the view org_principals — a person's
 * membership, or an API key of that org that is neither revoked nor expired. A repository reading a row "for a principal"
 * joins it into the row's statement, so that the row and the caller's role come back together
 * in one statement, and a principal with no membership gets no row (a 404, as if it did not exist).
 */
export function membershipOf(orgColumn: string, principalParameter: string): string {
  return `m.org_id = ${orgColumn} AND m.principal_id = ${principalParameter}`;
}

/** `membershipOf` as a join. */
export function joinMembership(orgColumn: string, principalParameter: string): string {
  return `JOIN org_principals m ON ${membershipOf(orgColumn, principalParameter)}`;
}
