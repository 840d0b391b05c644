import { applyDecorators } from '@nestjs/common';
import { MaxLength, ValidateBy, ValidationOptions } from 'class-validator';

/**
 * The two date formats the API takes, each exactly as documented and nothing else (ISO 8601
 * alone also allows week dates, ordinal dates, hour-only times and unbounded fractions, which
 * PostgreSQL then rejects, or reads differently):
 *
 * - a date: `YYYY-MM-DD`, a real calendar day of the years 0001–9999;
 * - a date and time (RFC 3339): `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1 to 6 digits
 *   (PostgreSQL keeps microseconds), and `Z` or an offset `±HH:MM` of at most 14 hours.
 */
export const DATE_MAX_LENGTH = 10;
export const DATE_TIME_MAX_LENGTH = 32; // 2026-11-23T10:00:00.123456+05:30

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

export const DATE_EXAMPLE = '2026-12-01';
export const DATE_TIME_EXAMPLE = '2026-11-23T10:00:00.000Z';

function isRealDay(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  // Day 0 of the next month is the last day of this one (setUTCFullYear: years below 100 too).
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0);
  return day <= last.getUTCDate();
}

export function isCalendarDate(value: unknown): boolean {
  if (typeof value !== 'string' || value.length !== DATE_MAX_LENGTH) return false;
  const match = DATE.exec(value);
  return match !== null && isRealDay(Number(match[1]), Number(match[2]), Number(match[3]));
}

export function isDateTime(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > DATE_TIME_MAX_LENGTH) return false;
  const match = DATE_TIME.exec(value);
  if (!match) return false;
  const [, year, month, day, hours, minutes, seconds, offsetHours, offsetMinutes] = match.map(Number);
  if (!isRealDay(year, month, day) || hours > 23 || minutes > 59 || seconds > 59) return false;
  if (match[7] === undefined) return true;
  return offsetMinutes <= 59 && (offsetHours < 14 || (offsetHours === 14 && offsetMinutes === 0));
}

/** A `YYYY-MM-DD` string that is a real day (see above). */
export const IsCalendarDate = (options?: ValidationOptions): PropertyDecorator =>
  applyDecorators(
    MaxLength(DATE_MAX_LENGTH, options),
    ValidateBy(
      {
        name: 'isCalendarDate',
        validator: {
          validate: isCalendarDate,
          defaultMessage: (args) => `${args?.property} must be a date like ${DATE_EXAMPLE}`,
        },
      },
      options,
    ),
  );

/** An RFC 3339 date and time (see above). */
export const IsDateTime = (options?: ValidationOptions): PropertyDecorator =>
  applyDecorators(
    MaxLength(DATE_TIME_MAX_LENGTH, options),
    ValidateBy(
      {
        name: 'isDateTime',
        validator: {
          validate: isDateTime,
          defaultMessage: (args) =>
            `${args?.property} must be a date and time like ${DATE_TIME_EXAMPLE} (seconds required, a fraction of at most 6 digits, Z or an offset such as +02:00)`,
        },
      },
      options,
    ),
  );
