import { applyDecorators, ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Matches, MaxLength, ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { Transform } from 'class-transformer';
import { ApiException, ErrorDetail } from './api-exception';
import { checkInputLimits, MAX_ERROR_DETAILS } from './input-limits';

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

const PLAIN_TYPES: unknown[] = [String, Boolean, Number, Array, Object];

/**
 * Nest's ValidationPipe with the limits of the DTO checked first, on the raw input
 * (checkInputLimits): what is over a limit is refused before class-transformer copies it and
 * before any validator looks at its items, so validation costs the same small time whatever
 * the size and shape of what was sent.
 */
class LimitedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { type, metatype } = metadata;
    if ((type === 'body' || type === 'query') && typeof metatype === 'function' && !PLAIN_TYPES.includes(metatype)) {
      const refused = checkInputLimits(value, metatype as new () => unknown, type);
      if (refused) throw refused;
    }
    return super.transform(value, metadata);
  }
}

/**
 * Strict input: unknown properties are rejected and named, values are not coerced between
 * JSON types (a query DTO converts its strings explicitly with @Type), and every failure is a
 * 400 VALIDATION_FAILED with one detail per problem (at most MAX_ERROR_DETAILS).
 */
export function createValidationPipe(): ValidationPipe {
  return new LimitedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => ApiException.validationFailed(flatten(errors).slice(0, MAX_ERROR_DETAILS)),
  });
}

/**
 * No two items of the array are equal, in O(n) (class-validator's ArrayUnique compares every item
 * with every other one).
 */
export const ArrayDistinct = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'arrayDistinct',
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || new Set(value).size === value.length,
        defaultMessage: (args) => `All ${args?.property}'s elements must be unique`,
      },
    },
    options,
  );

/** Trims a string field (names, titles); other types pass through for the validators to reject. */
export const Trim = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** An email address, as every DTO takes one (users, auth, members): compared and stored lower-case. */
export const EmailField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' }),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value)),
    IsEmail({}, { message: '$property must be an email' }),
    MaxLength(254),
  );

/** A query integer: only plain decimal digits become a number (`0x10`, `1e1`, ` 5` stay invalid). */
export const ToInteger = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value,
  );

/**
 * An optional field may be left out, but not sent as null: IsOptional() would skip validation
 * for null too, and null would then reach the database (a NOT NULL violation, a 500).
 */
export const OptionalField = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);

/**
 * The token of a link in a mail (invitation, password reset): issued as 256 random bits, 43
 * base64url characters. Any other word is a token that was never issued, so it is looked up like
 * one and answered 404 as the contract says of an unknown token (§16, §17); only what cannot be a
 * token at all — not a string, empty, longer than 256, or with spaces or control characters — is
 * a 400.
 */
export const LinkTokenField = (link: string): PropertyDecorator =>
  applyDecorators(
    ApiProperty({
      minLength: 1,
      maxLength: 256,
      pattern: '^[!-~]{1,256}$',
      description: `The \`token\` of the link in the ${link} mail (43 characters); any other is unknown: 404`,
      example: 'pV1s2f6V0bq3bZyJmM5uZ2oXo0kq8m3gqY5w6X0vS2c',
    }),
    IsString(),
    MaxLength(256),
    Matches(/^[!-~]{1,256}$/, { message: `$property must be the token of a ${link} link` }),
  );
