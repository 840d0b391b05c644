import { ApiProperty } from '@nestjs/swagger';
import type { Project } from './project.entity';

export class ProjectResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  id: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  orgId: string;

  @ApiProperty({ pattern: '^[A-Z0-9]{2,10}$', minLength: 2, maxLength: 10, example: 'ENG' })
  key: string;

  @ApiProperty({ minLength: 1, maxLength: 100, example: 'Engineering' })
  name: string;

  @ApiProperty({ maxLength: 10000 })
  description: string;

  @ApiProperty()
  archived: boolean;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  createdAt: string;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  updatedAt: string;

  @ApiProperty({ minimum: 1 })
  version: number;

  static from(p: Project): ProjectResponse {
    return {
      id: p.id,
      orgId: p.orgId,
      key: p.key,
      name: p.name,
      description: p.description,
      archived: p.archived,
      createdAt: p.createdAt.toISOString(),
      updatedAt: p.updatedAt.toISOString(),
      version: p.version,
    };
  }
}
