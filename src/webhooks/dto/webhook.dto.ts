import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsString,
  MaxLength,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { OptionalField } from '../../common/http/validation';
import { ListQuery } from '../../common/pagination/list.query';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '../webhook-event-types';
import { MAX_WEBHOOK_URL_LENGTH } from '../webhook-target';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

const KNOWN = new Set<string>(WEBHOOK_EVENT_TYPES);

/** Known event types, each once, or exactly `["*"]`. */
const IsEventSelection = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isEventSelection',
      validator: {
        validate: (value: unknown) => {
          if (!Array.isArray(value) || value.some((type) => typeof type !== 'string')) return true; // IsArray/IsString say why
          if (value.includes(ALL_EVENTS)) return value.length === 1;
          return value.every((type: string) => KNOWN.has(type)) && new Set(value).size === value.length;
        },
        defaultMessage: () => 'events must be ["*"] or distinct event types among: ' + WEBHOOK_EVENT_TYPES.join(', '),
      },
    },
    options,
  );

const UrlField = () =>
  applyDecorators(
    ApiProperty({
      format: 'uri',
      maxLength: MAX_WEBHOOK_URL_LENGTH,
      example: 'https://hooks.example.com/tasklane',
      description:
        'Where events are POSTed. With WEBHOOK_ALLOW_PRIVATE_TARGETS=false (production default): https, and a host that is or resolves only to public addresses; never with credentials.',
    }),
    IsString(),
    MaxLength(MAX_WEBHOOK_URL_LENGTH),
  );

const EventsField = () =>
  applyDecorators(
    ApiProperty({
      type: [String],
      minItems: 1,
      maxItems: WEBHOOK_EVENT_TYPES.length,
      items: { type: 'string', enum: [ALL_EVENTS, ...WEBHOOK_EVENT_TYPES], maxLength: 32 },
      example: ['task.created', 'task.updated', 'comment.created'],
      description: 'Event types to receive, or `["*"]` for all (present and future ones)',
    } as never),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(WEBHOOK_EVENT_TYPES.length),
    IsString({ each: true }),
    MaxLength(32, { each: true }),
    IsEventSelection(),
  );

const DescriptionField = () =>
  applyDecorators(
    ApiPropertyOptional({
      maxLength: 500,
      pattern: STRING_PATTERNS.text,
      default: '',
      example: 'Sync tasks to our tracker',
    }),
    OptionalField(),
    IsString(),
    MaxLength(500),
  );

const ActiveField = () =>
  applyDecorators(
    ApiPropertyOptional({ type: Boolean, default: true, description: 'An inactive webhook receives nothing' }),
    OptionalField(),
    IsBoolean(),
  );

export class CreateWebhookDto {
  @UrlField()
  url: string;

  @EventsField()
  events: string[];

  @DescriptionField()
  description?: string;

  @ActiveField()
  active?: boolean;
}

/** PATCH: any subset of the fields. A field sent as null is refused, not skipped. */
export class UpdateWebhookDto extends PartialType(CreateWebhookDto, { skipNullProperties: false }) {}

export class ListWebhooksQuery extends ListQuery {}

export class ListDeliveriesQuery extends ListQuery {}
