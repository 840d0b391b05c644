import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { MAX_CURSOR_LENGTH } from './cursor-paginator';
import { ToInteger } from '../http/validation';
import { STRING_PATTERNS } from '../swagger/string-formats';

/** `limit` and `cursor`, shared by every list's query DTO. */
export class ListQuery {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    minimum: 1,
    maximum: 100,
    default: 20,
    description: 'Page size',
  })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  @ApiPropertyOptional({
    maxLength: MAX_CURSOR_LENGTH,
    pattern: STRING_PATTERNS.cursor,
    description: 'The `meta.page.nextCursor` of the previous page',
  })
  @IsOptional()
  @IsString() // its length is the paginator's to judge: an over-long cursor is INVALID_CURSOR
  cursor?: string;
}
