import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const WELL_FORMED = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The request's id: a well-formed incoming X-Request-Id is reused, anything else is replaced.
 * Set once, first thing, and echoed on every response.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const existing = (req as { id?: unknown }).id;
  if (typeof existing === 'string') return existing;
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
  (req as { id?: unknown }).id = id;
  res.setHeader('X-Request-Id', id);
  return id;
}
