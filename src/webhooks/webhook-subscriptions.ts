/**
 * Which webhooks want an event, written once (as the membership lookup is): an active webhook of
 * the event's org whose `events` name its type or `*`. SQL expressions, alias `w` for webhooks.
 */
export function subscribedTo(orgExpression: string, typeExpression: string): string {
  return `w.org_id = ${orgExpression} AND w.active AND (${typeExpression} = ANY (w.events) OR '*' = ANY (w.events))`;
}

/**
 * Whether any webhook wants the event, as one expression: the audit trail asks it in the
 * RETURNING of its own insert, so that a change in an org without webhooks costs no extra
 * statement. Pass column references qualified by their table (an unqualified `org_id` would
 * be the webhook's own).
 */
export function hasSubscribers(orgExpression: string, typeExpression: string): string {
  return `EXISTS (SELECT 1 FROM webhooks w WHERE ${subscribedTo(orgExpression, typeExpression)})`;
}
