import { ApiProperty } from '@nestjs/swagger';

/** What every editable resource shows: its id, timestamps and `version` (the ETag). */
export abstract class VersionedResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  id: string;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  createdAt: string;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  updatedAt: string;

  @ApiProperty({ minimum: 1, description: 'Increases with every change; the ETag is built from it' })
  version: number;
}

/** The shared fields, as clients see them. */
export function versionedFields(row: {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}): VersionedResponse {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}
