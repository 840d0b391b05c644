import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

/** The body is kept exactly as written (no trimming), but must not be blank. */
export class CreateCommentDto {
  @ApiProperty({ minLength: 1, maxLength: 10000, example: 'Reproduced on staging; fix in review.' })
  @IsString()
  @Matches(/\S/, { message: 'body must not be empty or blank' })
  @MaxLength(10000)
  body: string;
}

/** PATCH: the body is the only field a comment has to change. */
export class UpdateCommentDto extends CreateCommentDto {}
