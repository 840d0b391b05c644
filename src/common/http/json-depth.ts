import type { NextFunction, Request, Response } from 'express';

/**
 * The deepest nesting of arrays and objects accepted in a request body: far more than any request
 * of the API needs, far less than what overflows the stack when the body is turned into a DTO
 * (class-transformer recurses once per level and fails at one or two thousand levels, which a
 * 4 KB JSON body reaches).
 */
export const MAX_BODY_DEPTH = 64;

function deeperThan(body: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[body, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(value)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * Express middleware, right after the body parsers: a body nested deeper than MAX_BODY_DEPTH is
 * refused as malformed (400 MALFORMED_BODY), the way body-parser reports its own errors.
 */
export function rejectDeepBodies(req: Request, _res: Response, next: NextFunction): void {
  if (!deeperThan(req.body, MAX_BODY_DEPTH)) return next();
  const error = Object.assign(new Error('The request body is nested too deeply'), {
    status: 400,
    statusCode: 400,
    expose: true,
    type: 'entity.parse.failed',
  });
  next(error);
}
