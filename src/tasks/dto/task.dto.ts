import { applyDecorators } from '@nestjs/common';
import { ApiProperty, IntersectionType, OmitType, PartialType, PickType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsNotEmpty, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { DATE_EXAMPLE, DATE_MAX_LENGTH, IsCalendarDate } from '../../common/http/dates';
import { ArrayDistinct, Trim } from '../../common/http/validation';
import { TASK_PRIORITIES, TASK_STATUSES, TaskPriority, TaskStatus } from '../task.entity';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

/** null is a value here (no assignee, no due date), not a missing field: it skips validation. */
const NullAllowed = () => ValidateIf((_o: object, value: unknown) => value !== null);

const TitleField = () =>
  applyDecorators(
    ApiProperty({ minLength: 1, maxLength: 200, pattern: STRING_PATTERNS.nonBlankText, example: 'Fix the login page' }),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(200),
  );
const DescriptionField = () =>
  applyDecorators(ApiProperty({ maxLength: 10000, pattern: STRING_PATTERNS.text }), IsString(), MaxLength(10000));
const StatusField = () =>
  applyDecorators(ApiProperty({ enum: TASK_STATUSES, enumName: 'TaskStatus' }), IsIn(TASK_STATUSES));
const PriorityField = () =>
  applyDecorators(ApiProperty({ enum: TASK_PRIORITIES, enumName: 'TaskPriority' }), IsIn(TASK_PRIORITIES));
const AssigneeField = () =>
  applyDecorators(
    ApiProperty({
      type: String,
      format: 'uuid',
      maxLength: 36,
      nullable: true,
      description: 'A member of the org, or null',
    }),
    NullAllowed(),
    IsUUID(undefined, { message: 'assigneeId must be a UUID or null' }),
  );
const DueDateField = () =>
  applyDecorators(
    ApiProperty({ type: String, format: 'date', maxLength: DATE_MAX_LENGTH, nullable: true, example: DATE_EXAMPLE }),
    NullAllowed(),
    IsString(),
    IsCalendarDate({ message: `dueDate must be a date like ${DATE_EXAMPLE} (0001-9999), or null` }),
  );
const LabelsField = () =>
  applyDecorators(
    ApiProperty({
      type: [String],
      maxItems: 20,
      items: { type: 'string', minLength: 1, maxLength: 50, pattern: STRING_PATTERNS.nonBlankText },
      description: 'Distinct; each trimmed',
    } as never),
    Transform(({ value }: { value: unknown }) =>
      Array.isArray(value) ? value.map((l: unknown) => (typeof l === 'string' ? l.trim() : l)) : value,
    ),
    IsArray(),
    ArrayMaxSize(20),
    ArrayDistinct(),
    IsString({ each: true }),
    IsNotEmpty({ each: true }),
    MaxLength(50, { each: true }),
  );

/** PUT: every mutable field; `assigneeId` and `dueDate` may be null but not left out. */
export class ReplaceTaskDto {
  @TitleField() title: string;
  @DescriptionField() description: string;
  @StatusField() status: TaskStatus;
  @PriorityField() priority: TaskPriority;
  @AssigneeField() assigneeId: string | null;
  @DueDateField() dueDate: string | null;
  @LabelsField() labels: string[];
}

/**
 * POST: a title; the other fields of PUT may be left out (status todo, priority medium, no
 * assignee, no due date, no labels). Made partial with skipNullProperties: false, as PATCH is, so
 * that null still means "none" for assigneeId and dueDate and is refused elsewhere.
 */
export class CreateTaskDto extends IntersectionType(
  PickType(ReplaceTaskDto, ['title'] as const),
  PartialType(OmitType(ReplaceTaskDto, ['title'] as const), { skipNullProperties: false }),
) {}

/** PATCH: any subset of the fields of PUT. */
export class UpdateTaskDto extends PartialType(ReplaceTaskDto, { skipNullProperties: false }) {}
