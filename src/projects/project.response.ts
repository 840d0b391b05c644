import { ApiProperty } from '@nestjs/swagger';
import { VersionedResponse, versioned } from '../common/http/versioned.response';
import type { Project } from './project.entity';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export class ProjectResponse extends VersionedResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  orgId: string;

  @ApiProperty({ pattern: '^[A-Z0-9]{2,10}$', minLength: 2, maxLength: 10, example: 'ENG' })
  key: string;

  @ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'Engineering' })
  name: string;

  @ApiProperty({ maxLength: 10000, pattern: STRING_PATTERNS.text })
  description: string;

  @ApiProperty()
  archived: boolean;

  static from(p: Project): ProjectResponse {
    return versioned(p, {
      orgId: p.orgId,
      key: p.key,
      name: p.name,
      description: p.description,
      archived: p.archived,
    });
  }
}
