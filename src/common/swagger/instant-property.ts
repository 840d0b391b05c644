import { ApiProperty } from '@nestjs/swagger';

/** An instant that may be null (RFC 3339 in UTC, as every instant of the API), documented with its meaning. */
export const NullableInstantProperty = (description: string, example: string | null): PropertyDecorator =>
  ApiProperty({ type: 'string', format: 'date-time', maxLength: 30, nullable: true, example, description });
