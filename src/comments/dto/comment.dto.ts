import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

/** The body is kept exactly as written (no trimming), but must not be blank. */
export class CreateCommentDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 10000,
    pattern: STRING_PATTERNS.nonBlankText,
    example: 'Reproduced on staging; fix in review.',
    description: 'Kept exactly as written; must not be blank',
  })
  @IsString()
  @Matches(/\S/, { message: 'body must not be empty or blank' })
  @MaxLength(10000)
  body: string;
}

/** PATCH: the body is the only field a comment has to change. */
export class UpdateCommentDto extends CreateCommentDto {}
