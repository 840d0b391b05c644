import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ListQuery } from '../../common/pagination/list.query';

export const COMMENT_SORTS = ['createdAt', '-createdAt'] as const;

export class ListCommentsQuery extends ListQuery {
  @ApiPropertyOptional({
    enum: COMMENT_SORTS,
    enumName: 'CommentSort',
    default: 'createdAt',
    description: 'Oldest first by default, as a conversation reads; the id breaks ties',
  })
  @IsOptional()
  @IsIn(COMMENT_SORTS)
  sort: (typeof COMMENT_SORTS)[number] = 'createdAt';
}
