import { ApiProperty } from '@nestjs/swagger';

/** What every editable resource shows: its id, timestamps and `version` (the ETag). */
export abstract class VersionedResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: '2d8f6b4a-7e1c-4f3b-9a5d-8c0e2b4f6a13' })
  id: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-23T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-23T10:00:00.000Z' })
  updatedAt: string;

  @ApiProperty({ minimum: 1, example: 1, description: 'Increases with every change; the ETag is built from it' })
  version: number;
}

/**
 * A resource as clients see it: the shared fields first, then its own. Object.assign rather than
 * `{ ...shared, ...own }` written as one literal: V8 builds a literal that opens with a spread
 * about ten times slower (7.5 µs against 0.7 µs per task row here), and lists map 50 rows per
 * request (BENCHMARKS.md).
 */
export function versioned<Own extends object>(
  row: { id: string; createdAt: Date; updatedAt: Date; version: number },
  own: Own,
): VersionedResponse & Own {
  return Object.assign(
    {
      id: row.id,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      version: row.version,
    },
    own,
  );
}
