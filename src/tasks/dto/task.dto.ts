import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsNotEmpty, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { DATE_EXAMPLE, DATE_MAX_LENGTH, IsCalendarDate } from '../../common/http/dates';
import { ArrayDistinct, OptionalField, Trim } from '../../common/http/validation';
import { TASK_PRIORITIES, TASK_STATUSES, TaskPriority, TaskStatus } from '../task.entity';

type Presence = 'required' | 'optional';
const doc = (presence: Presence) => (presence === 'required' ? ApiProperty : ApiPropertyOptional);
const optional = (presence: Presence) => (presence === 'optional' ? [OptionalField()] : []);
/** null is a value here (no assignee, no due date); only a missing field is "not given". */
const Nullable = (presence: Presence) =>
  ValidateIf((_o: object, v: unknown) => v !== null && (presence === 'required' || v !== undefined));

const TitleField = (p: Presence) =>
  applyDecorators(
    doc(p)({ minLength: 1, maxLength: 200, example: 'Fix the login page' }),
    ...optional(p),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(200),
  );
const DescriptionField = (p: Presence) =>
  applyDecorators(doc(p)({ maxLength: 10000 }), ...optional(p), IsString(), MaxLength(10000));
const StatusField = (p: Presence) =>
  applyDecorators(doc(p)({ enum: TASK_STATUSES, enumName: 'TaskStatus' }), ...optional(p), IsIn(TASK_STATUSES));
const PriorityField = (p: Presence) =>
  applyDecorators(doc(p)({ enum: TASK_PRIORITIES, enumName: 'TaskPriority' }), ...optional(p), IsIn(TASK_PRIORITIES));
const AssigneeField = (p: Presence) =>
  applyDecorators(
    doc(p)({
      type: String,
      format: 'uuid',
      maxLength: 36,
      nullable: true,
      description: 'A member of the org, or null',
    }),
    Nullable(p),
    IsUUID(undefined, { message: 'assigneeId must be a UUID or null' }),
  );
const DueDateField = (p: Presence) =>
  applyDecorators(
    doc(p)({ type: String, format: 'date', maxLength: DATE_MAX_LENGTH, nullable: true, example: DATE_EXAMPLE }),
    Nullable(p),
    IsString(),
    IsCalendarDate({ message: `dueDate must be a date like ${DATE_EXAMPLE} (0001-9999), or null` }),
  );
const LabelsField = (p: Presence) =>
  applyDecorators(
    doc(p)({ type: [String], maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 50 } } as never),
    ...optional(p),
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

export class CreateTaskDto {
  @TitleField('required') title: string;
  @DescriptionField('optional') description?: string;
  @StatusField('optional') status?: TaskStatus;
  @PriorityField('optional') priority?: TaskPriority;
  @AssigneeField('optional') assigneeId?: string | null;
  @DueDateField('optional') dueDate?: string | null;
  @LabelsField('optional') labels?: string[];
}

/** PUT: every mutable field; `assigneeId` and `dueDate` may be null but not left out. */
export class ReplaceTaskDto {
  @TitleField('required') title: string;
  @DescriptionField('required') description: string;
  @StatusField('required') status: TaskStatus;
  @PriorityField('required') priority: TaskPriority;
  @AssigneeField('required') assigneeId: string | null;
  @DueDateField('required') dueDate: string | null;
  @LabelsField('required') labels: string[];
}

export class UpdateTaskDto {
  @TitleField('optional') title?: string;
  @DescriptionField('optional') description?: string;
  @StatusField('optional') status?: TaskStatus;
  @PriorityField('optional') priority?: TaskPriority;
  @AssigneeField('optional') assigneeId?: string | null;
  @DueDateField('optional') dueDate?: string | null;
  @LabelsField('optional') labels?: string[];
}
