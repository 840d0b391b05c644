import { ApiProperty } from '@nestjs/swagger';
import { VersionedResponse, versioned } from '../common/http/versioned.response';
import { Task, TASK_PRIORITIES, TASK_STATUSES, TaskPriority, TaskStatus } from './task.entity';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export class TaskResponse extends VersionedResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  projectId: string;

  @ApiProperty({ minimum: 1, description: 'Per project, from 1, without gaps' })
  number: number;

  @ApiProperty({ pattern: '^[A-Z0-9]{2,10}-[0-9]+$', maxLength: 21, example: 'ENG-42' })
  key: string;

  @ApiProperty({ minLength: 1, maxLength: 200, pattern: STRING_PATTERNS.nonBlankText })
  title: string;

  @ApiProperty({ maxLength: 10000, pattern: STRING_PATTERNS.text })
  description: string;

  @ApiProperty({ enum: TASK_STATUSES, enumName: 'TaskStatus' })
  status: TaskStatus;

  @ApiProperty({ enum: TASK_PRIORITIES, enumName: 'TaskPriority' })
  priority: TaskPriority;

  @ApiProperty({ type: String, format: 'uuid', maxLength: 36, nullable: true })
  assigneeId: string | null;

  @ApiProperty({ type: String, format: 'date', maxLength: 10, nullable: true, example: '2026-12-01' })
  dueDate: string | null;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: 50, pattern: STRING_PATTERNS.nonBlankText },
    maxItems: 20,
    example: ['backend'],
  })
  labels: string[];

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  createdBy: string;

  static from(t: Task): TaskResponse {
    return versioned(t, {
      projectId: t.projectId,
      number: t.number,
      key: `${t.projectKey}-${t.number}`,
      title: t.title,
      description: t.description,
      status: t.status,
      priority: t.priority,
      assigneeId: t.assigneeId,
      dueDate: t.dueDate,
      labels: t.labels,
      createdBy: t.createdBy,
    });
  }
}
