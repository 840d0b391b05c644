import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DATE_EXAMPLE, DATE_MAX_LENGTH, IsCalendarDate } from '../../common/http/dates';
import { Trim } from '../../common/http/validation';
import { ListQuery } from '../../common/pagination/list.query';
import { TASK_PRIORITIES, TASK_STATUSES, TaskPriority, TaskStatus } from '../task.entity';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

export const TASK_SORTS = [
  'createdAt',
  '-createdAt',
  'updatedAt',
  '-updatedAt',
  'dueDate',
  '-dueDate',
  'priority',
  '-priority',
  'number',
  '-number',
] as const;
export type TaskSort = (typeof TASK_SORTS)[number];

/** `?status=todo&status=done` and `?status=todo,done` alike. */
const List = () =>
  Transform(({ value }: { value: unknown }) =>
    (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])),
  );

/** Any of a fixed set of values, at most as many as the set has (IsIn's message comes first, as it always has). */
const EnumListField = (values: readonly string[], description: string): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ isArray: true, enum: values, maxItems: values.length, description }),
    IsOptional(),
    List(),
    IsIn(values, { each: true }),
    ArrayMaxSize(values.length),
  );

const DueDateField = (bound: 'on or before' | 'on or after'): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      format: 'date',
      maxLength: DATE_MAX_LENGTH,
      example: DATE_EXAMPLE,
      description: `Due ${bound} this date (YYYY-MM-DD)`,
    }),
    IsOptional(),
    IsCalendarDate(),
  );

const UUID_ME_NONE = /^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

export class ListTasksQuery extends ListQuery {
  @EnumListField(TASK_STATUSES, 'Repeat it or give a comma list: any of them')
  status?: TaskStatus[];

  @EnumListField(TASK_PRIORITIES, 'Repeat it or give a comma list')
  priority?: TaskPriority[];

  @ApiPropertyOptional({
    maxLength: 36,
    pattern: UUID_ME_NONE.source,
    description: 'A user id, `me` (you) or `none` (unassigned)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(36)
  @Matches(UUID_ME_NONE, { message: 'assigneeId must be a UUID, me or none' })
  assigneeId?: string;

  @ApiPropertyOptional({
    maxLength: 50,
    pattern: STRING_PATTERNS.text,
    description: 'Tasks carrying this label (exactly, once trimmed)',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(50)
  label?: string;

  @ApiPropertyOptional({
    maxLength: 200,
    pattern: STRING_PATTERNS.text,
    description:
      'Full-text search over title and description, in PostgreSQL’s web-search syntax (words, `"a phrase"`, `or`, `-word`)',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(200)
  q?: string;

  @DueDateField('on or before')
  dueBefore?: string;

  @DueDateField('on or after')
  dueAfter?: string;

  @ApiPropertyOptional({
    enum: TASK_SORTS,
    enumName: 'TaskSort',
    default: '-createdAt',
    description: 'priority sorts by rank (low < urgent); tasks without a due date come last under dueDate',
  })
  @IsOptional()
  @IsIn(TASK_SORTS)
  sort: TaskSort = '-createdAt';
}
