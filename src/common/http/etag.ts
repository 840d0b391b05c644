import { applyDecorators, createParamDecorator, ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors } from '../swagger/api-errors.decorator';
import { STRING_PATTERNS } from '../swagger/string-formats';

/** Strong ETags built from the resource's version: `"3"`. */
export function etagFor(version: number): string {
  return `"${version}"`;
}

/**
 * What If-Match asks for: undefined (no header, or `*`) lets the write through; otherwise the
 * versions it names. If-Match compares strong tags (RFC 9110 §13.1.1), so a weak tag, or a tag
 * that is not one of ours, names no version and never matches.
 */
export type ExpectedVersions = number[] | undefined;

export function parseIfMatch(header: string | undefined): ExpectedVersions {
  if (header === undefined || header.trim() === '*') return undefined;
  const versions: number[] = [];
  for (const tag of header.split(',')) {
    const match = /^\s*"(\d{1,9})"\s*$/.exec(tag);
    if (match) versions.push(Number(match[1]));
  }
  return versions;
}

export function versionMatches(expected: ExpectedVersions, version: number): boolean {
  return expected === undefined || expected.includes(version);
}

/** The parsed If-Match header of the request. */
export const IfMatch = createParamDecorator((_data: unknown, ctx: ExecutionContext): ExpectedVersions =>
  parseIfMatch(ctx.switchToHttp().getRequest<Request>().header('if-match')),
);

/** Documents a write guarded by If-Match: the optional header and the 412. */
export const ConditionalWrite = (): MethodDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description:
        'The ETag last read (or a list of them, or `*`); the write fails with 412 if the resource has changed since. A weak tag never matches.',
      schema: { type: 'string', maxLength: 64, pattern: STRING_PATTERNS.entityTags },
    }),
    ApiErrors(412),
  );
