import { HttpStatus } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { ApiException, ErrorDetail } from './api-exception';

/** At most this many problems are listed in one 400: enough to fix a request, bounded for any body. */
export const MAX_ERROR_DETAILS = 20;

/** What a DTO allows of one property, read from its class-validator decorators. */
export interface PropertyLimits {
  property: string;
  /** An array (`@IsArray`, `@ArrayMaxSize`, or validators with `each`). */
  array: boolean;
  maxItems?: number;
  /** `@MaxLength` of the value, or of each item of an array. */
  maxLength?: number;
  itemMaxLength?: number;
  /** What a single value must be, for the message when an object or array comes instead. */
  expects: 'a string' | 'a boolean value' | 'an integer number' | 'a single value';
}

const ARRAY_VALIDATORS = new Set(['isArray', 'arrayMaxSize', 'arrayMinSize', 'arrayDistinct', 'arrayUnique']);
const STRING_VALIDATORS = new Set([
  'isString',
  'isEmail',
  'isUuid',
  'matches',
  'maxLength',
  'isLength',
  'isCalendarDate',
  'isDateTime',
]);
interface DtoLimits {
  properties: PropertyLimits[];
  known: Set<string>;
}
const compiled = new WeakMap<object, DtoLimits>();

/** The limits of every property of a DTO class (inherited ones included), compiled once. */
export function limitsOf(dto: new () => unknown): DtoLimits {
  const cached = compiled.get(dto);
  if (cached) return cached;
  const byProperty = new Map<string, { name?: string; each?: boolean; constraints?: unknown[] }[]>();
  for (const metadata of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  const properties = [...byProperty].map(([property, metadata]): PropertyLimits => {
    const named = (name: string, each = false) => metadata.find((m) => m.name === name && Boolean(m.each) === each);
    const constraint = (name: string, each = false, index = 0) =>
      named(name, each)?.constraints?.[index] as number | undefined;
    // @MaxLength(max), or @Length(min, max)
    const maxLength = (each = false) => constraint('maxLength', each) ?? constraint('isLength', each, 1);
    const names = new Set(metadata.map((m) => m.name));
    const array = metadata.some((m) => m.each || ARRAY_VALIDATORS.has(m.name ?? ''));
    const expects = names.has('isBoolean')
      ? 'a boolean value'
      : names.has('isInt')
        ? 'an integer number'
        : [...names].some((name) => STRING_VALIDATORS.has(name ?? ''))
          ? 'a string'
          : 'a single value';
    const shape: PropertyLimits = {
      property,
      array,
      maxItems: constraint('arrayMaxSize'),
      maxLength: array ? undefined : maxLength(),
      itemMaxLength: array ? maxLength(true) : undefined,
      expects,
    };
    if (array && shape.maxItems === undefined) {
      throw new Error(`${dto.name}.${property} is an array without @ArrayMaxSize: every input must be bounded`);
    }
    return shape;
  });
  const limits = { properties, known: new Set(byProperty.keys()) };
  compiled.set(dto, limits);
  return limits;
}

/**
 * Surely longer than `max` characters: class-validator counts code points, at most two UTF-16
 * units each, and names and titles are trimmed before they are validated. Nearer cases are left
 * to the exact validators, which cost little on a string of this length.
 */
const tooLong = (value: string, max: number | undefined): boolean =>
  max !== undefined && value.length > 2 * max && value.trim().length > 2 * max;

const isObject = (value: unknown): value is object => value !== null && typeof value === 'object';

/**
 * The cheap checks that come before any per-item work: the body is an object, no array is
 * longer than its limit and no string much longer than its own, no object or array stands where
 * one value belongs, and at most MAX_ERROR_DETAILS properties are unknown, each of one value.
 * Each costs O(1) per property and O(keys) in all, whatever was sent, so a body of 2,000 labels
 * or unknown keys is refused in microseconds. Input within these limits goes on to class-transformer and
 * class-validator, which then name every problem at once.
 */
export function checkInputLimits(
  value: unknown,
  dto: new () => unknown,
  where: 'body' | 'query',
): ApiException | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || Array.isArray(value)) {
    return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', `The request ${where} must be a JSON object`);
  }
  const { properties, known } = limitsOf(dto);
  const over: ErrorDetail[] = [];
  const fields = value as Record<string, unknown>;
  for (const limit of properties) {
    const detail = checkProperty(limit, fields[limit.property]);
    if (detail) over.push(detail);
  }
  const unknown: ErrorDetail[] = [];
  let unknownCount = 0;
  // An unknown property holding an object or array would still be copied, deeply, by
  // class-transformer before class-validator names it: refused here instead.
  let unknownStructure = false;
  for (const key of Object.keys(value)) {
    if (known.has(key)) continue;
    unknownStructure ||= isObject(fields[key]);
    if (++unknownCount <= MAX_ERROR_DETAILS) unknown.push({ field: key, message: `property ${key} should not exist` });
  }
  if (over.length === 0 && !unknownStructure && unknownCount <= MAX_ERROR_DETAILS) return undefined;
  const details = [...over, ...unknown].slice(0, MAX_ERROR_DETAILS);
  return ApiException.validationFailed(details);
}

function checkProperty(limit: PropertyLimits, raw: unknown): ErrorDetail | undefined {
  const { property: field } = limit;
  if (raw === undefined || raw === null) return undefined;
  if (!limit.array) {
    if (isObject(raw)) return { field, message: `${field} must be ${limit.expects}` };
    if (typeof raw === 'string' && tooLong(raw, limit.maxLength)) {
      return { field, message: `${field} must be shorter than or equal to ${limit.maxLength} characters` };
    }
    return undefined;
  }
  if (!Array.isArray(raw)) return isObject(raw) ? { field, message: `${field} must be an array` } : undefined;
  if (raw.length > limit.maxItems!) {
    return { field, message: `${field} must contain no more than ${limit.maxItems} elements` };
  }
  for (const item of raw) {
    if (isObject(item)) return { field, message: `each value in ${field} must be ${limit.expects}` };
    if (typeof item === 'string' && tooLong(item, limit.itemMaxLength)) {
      return {
        field,
        message: `each value in ${field} must be shorter than or equal to ${limit.itemMaxLength} characters`,
      };
    }
  }
  return undefined;
}
