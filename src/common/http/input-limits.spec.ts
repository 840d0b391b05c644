import { getMetadataStorage, IsArray, IsString, MaxLength } from 'class-validator';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException } from './api-exception';
import { checkInputLimits, limitsOf, MAX_ERROR_DETAILS } from './input-limits';
import { ArrayDistinct } from './validation';
import { CreateTaskDto } from '../../tasks/dto/task.dto';
import { ListTasksQuery } from '../../tasks/dto/list-tasks.query';

/** Every class exported by a `dto/` file under src/. */
function dtoClasses(dir = join(__dirname, '../..')): [string, new () => unknown][] {
  return readdirSync(dir).flatMap((entry): [string, new () => unknown][] => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return dtoClasses(path);
    if (!/\/dto\/[^/]+\.ts$/.test(path) || path.endsWith('.spec.ts')) return [];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading every DTO file found
    const exported = require(path) as Record<string, unknown>;
    return Object.entries(exported).filter(
      (e): e is [string, new () => unknown] =>
        typeof e[1] === 'function' &&
        getMetadataStorage().getTargetValidationMetadatas(e[1], '', true, false).length > 0,
    );
  });
}

/** A value is bounded when its length is capped or it is one of a fixed set of short values. */
const BOUNDING = ['maxLength', 'isLength', 'isIn', 'isUuid', 'isBoolean', 'isInt', 'isCalendarDate', 'isDateTime'];
/** The paginator refuses a cursor over MAX_CURSOR_LENGTH itself, as INVALID_CURSOR (contract §2). */
const BOUNDED_ELSEWHERE = new Set(['cursor']);

describe('DTO limits', () => {
  const classes = dtoClasses();

  it('finds the DTOs (a sanity check of the walk above)', () => {
    expect(classes.map(([name]) => name)).toEqual(
      expect.arrayContaining(['CreateTaskDto', 'ListTasksQuery', 'RegisterDto', 'OAuthTokenRequest', 'CreateOrgDto']),
    );
    expect(classes.length).toBeGreaterThanOrEqual(20);
  });

  it('every property of every DTO is bounded: strings by length or a fixed set, arrays by size', () => {
    const unbounded: string[] = [];
    for (const [name, dto] of classes) {
      const byProperty = new Map<string, { name?: string; each?: boolean }[]>();
      for (const m of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
        byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
      }
      for (const [property, metadata] of byProperty) {
        if (BOUNDED_ELSEWHERE.has(property)) continue;
        const array = metadata.some((m) => m.each || m.name === 'isArray' || m.name === 'arrayMaxSize');
        const bounds = metadata.filter((m) => BOUNDING.includes(m.name ?? ''));
        if (array && !metadata.some((m) => m.name === 'arrayMaxSize')) unbounded.push(`${name}.${property} (size)`);
        if (array ? !bounds.some((m) => m.each) : bounds.length === 0) unbounded.push(`${name}.${property}`);
      }
      expect(() => limitsOf(dto)).not.toThrow();
    }
    expect(unbounded).toEqual([]);
  });

  it('an array property without @ArrayMaxSize cannot be compiled', () => {
    class Unbounded {
      @IsArray()
      @IsString({ each: true })
      @MaxLength(5, { each: true })
      tags: string[];
    }
    expect(() => limitsOf(Unbounded)).toThrow(/Unbounded.tags is an array without @ArrayMaxSize/);
  });
});

describe('checkInputLimits', () => {
  const check = (value: unknown) => checkInputLimits(value, CreateTaskDto, 'body');
  const details = (value: unknown) => (check(value) as ApiException).details;

  it('lets input within the limits through to class-validator, a few unknown properties included', () => {
    expect(check({ title: 'x', labels: ['a', 'b'] })).toBeUndefined();
    expect(check({ title: 123, status: 'open', extra: 1 })).toBeUndefined();
    expect(check(undefined)).toBeUndefined();
  });

  it('refuses a body that is not an object', () => {
    for (const body of [[], [{ title: 'x' }], 'text', 5, true]) {
      expect(check(body)).toMatchObject({
        code: 'VALIDATION_FAILED',
        message: 'The request body must be a JSON object',
      });
    }
  });

  it('refuses an array over its size, naming it, without looking at its items', () => {
    const labels = Array.from({ length: 21 }, () => ({
      toString: () => {
        throw new Error('an item was read');
      },
    }));
    expect(details({ title: 'x', labels })).toEqual([
      { field: 'labels', message: 'labels must contain no more than 20 elements' },
    ]);
  });

  it('refuses objects and arrays where one value belongs, and in arrays of values', () => {
    expect(details({ title: { a: 1 }, description: ['x'] })).toEqual([
      { field: 'title', message: 'title must be a string' },
      { field: 'description', message: 'description must be a string' },
    ]);
    expect(details({ labels: ['a', ['b']] })).toEqual([
      { field: 'labels', message: 'each value in labels must be a string' },
    ]);
    expect(details({ labels: { 0: 'a' } })).toEqual([{ field: 'labels', message: 'labels must be an array' }]);
  });

  it('refuses a string far over its length; nearer ones (code points, trimming) are class-validator’s to judge', () => {
    expect(details({ title: 'x'.repeat(401) })).toEqual([
      { field: 'title', message: 'title must be shorter than or equal to 200 characters' },
    ]);
    expect(check({ title: '😀'.repeat(200) })).toBeUndefined(); // 400 UTF-16 units, 200 characters
    expect(check({ title: ` ${'x'.repeat(200)} `.padEnd(420, ' ') })).toBeUndefined();
    expect(details({ labels: ['ok', 'y'.repeat(101)] })).toEqual([
      { field: 'labels', message: 'each value in labels must be shorter than or equal to 50 characters' },
    ]);
  });

  it('refuses an unknown property holding an object or array at once (class-transformer would copy it whole)', () => {
    expect(details({ title: 'x', extra: [[[1]]] })).toEqual([
      { field: 'extra', message: 'property extra should not exist' },
    ]);
    expect(details({ title: 'x', extra: { a: 1 } })).toEqual([
      { field: 'extra', message: 'property extra should not exist' },
    ]);
  });

  it('stops at MAX_ERROR_DETAILS unknown properties, however many were sent', () => {
    const body = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    const listed = details(body)!;
    expect(listed).toHaveLength(MAX_ERROR_DETAILS);
    expect(listed[0]).toEqual({ field: 'k0', message: 'property k0 should not exist' });
    const twenty = Object.fromEntries(Array.from({ length: MAX_ERROR_DETAILS }, (_, i) => [`k${i}`, i]));
    expect(check(twenty)).toBeUndefined(); // few enough for class-validator to name with the rest
  });

  it('reads query DTOs the same way: repeated parameters are arrays, bounded', () => {
    expect(checkInputLimits({ status: ['todo', 'done'] }, ListTasksQuery, 'query')).toBeUndefined();
    expect(checkInputLimits({ status: Array(5).fill('todo') }, ListTasksQuery, 'query')).toMatchObject({
      details: [{ field: 'status', message: 'status must contain no more than 4 elements' }],
    });
    expect(checkInputLimits({ q: ['a', 'b'] }, ListTasksQuery, 'query')).toMatchObject({
      details: [{ field: 'q', message: 'q must be a string' }],
    });
  });
});

describe('ArrayDistinct', () => {
  class Tagged {
    @ArrayDistinct()
    tags: unknown[];
  }

  it('accepts distinct items and names a repeated one', async () => {
    const { validate } = await import('class-validator');
    const tagged = Object.assign(new Tagged(), { tags: Array.from({ length: 1000 }, (_, i) => `t${i}`) });
    expect(await validate(tagged)).toEqual([]);
    tagged.tags.push('t7');
    const [error] = await validate(tagged);
    expect(error.constraints).toEqual({ arrayDistinct: "All tags's elements must be unique" });
  });
});
