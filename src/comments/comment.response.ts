import { ApiProperty } from '@nestjs/swagger';
import { VersionedResponse, versioned } from '../common/http/versioned.response';
import type { Comment } from './comment.entity';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export class CommentResponse extends VersionedResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  taskId: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  authorId: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 10000,
    pattern: STRING_PATTERNS.nonBlankText,
    example: 'Reproduced on staging; fix in review.',
  })
  body: string;

  static from(c: Comment): CommentResponse {
    return versioned(c, { taskId: c.taskId, authorId: c.authorId, body: c.body });
  }
}
