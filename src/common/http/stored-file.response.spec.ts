import { parseRange } from './stored-file.response';

const part = (start: number, end: number) => ({ kind: 'part', range: { start, end } });
const WHOLE = { kind: 'whole' };
const UNSATISFIABLE = { kind: 'unsatisfiable' };

describe('parseRange', () => {
  it('no Range header: the whole file', () => {
    expect(parseRange(undefined, 10)).toEqual(WHOLE);
  });

  it('bytes=a-b: those bytes, both ends inclusive', () => {
    expect(parseRange('bytes=0-3', 10)).toEqual(part(0, 3));
    expect(parseRange('bytes=2-5', 10)).toEqual(part(2, 5));
    expect(parseRange('bytes=0-0', 10)).toEqual(part(0, 0));
    expect(parseRange('bytes=9-9', 10)).toEqual(part(9, 9));
    expect(parseRange('bytes=0-9', 10)).toEqual(part(0, 9));
  });

  it('bytes=-n: the last n bytes', () => {
    expect(parseRange('bytes=-4', 10)).toEqual(part(6, 9));
    expect(parseRange('bytes=-1', 10)).toEqual(part(9, 9));
    expect(parseRange('bytes=-10', 10)).toEqual(part(0, 9));
  });

  it('bytes=-n with n past the size: the whole file as a part', () => {
    expect(parseRange('bytes=-20', 10)).toEqual(part(0, 9));
  });

  it('bytes=a-: from a to the end', () => {
    expect(parseRange('bytes=10-', 20)).toEqual(part(10, 19));
    expect(parseRange('bytes=0-', 20)).toEqual(part(0, 19));
    expect(parseRange('bytes=19-', 20)).toEqual(part(19, 19));
  });

  it('an end past the size is clamped to the last byte', () => {
    expect(parseRange('bytes=5-100', 10)).toEqual(part(5, 9));
    expect(parseRange('bytes=0-10', 10)).toEqual(part(0, 9));
  });

  it('a start at or past the size is unsatisfiable', () => {
    expect(parseRange('bytes=10-', 10)).toEqual(UNSATISFIABLE);
    expect(parseRange('bytes=10-12', 10)).toEqual(UNSATISFIABLE);
    expect(parseRange('bytes=1000-2000', 10)).toEqual(UNSATISFIABLE);
  });

  it('bytes=-0 (the last zero bytes) is unsatisfiable', () => {
    expect(parseRange('bytes=-0', 10)).toEqual(UNSATISFIABLE);
    expect(parseRange('bytes=-000', 10)).toEqual(UNSATISFIABLE);
  });

  it('tolerates case and whitespace around the parts', () => {
    expect(parseRange('Bytes=0-3', 10)).toEqual(part(0, 3));
    expect(parseRange('BYTES = 1 - 2', 10)).toEqual(part(1, 2));
    expect(parseRange('  bytes=-4  ', 10)).toEqual(part(6, 9));
  });

  it.each([
    ['several ranges', 'bytes=0-1,4-5'],
    ['several ranges, spaced', 'bytes=0-1, 4-5'],
    ['another unit', 'items=0-3'],
    ['no unit', '0-3'],
    ['garbage', 'garbage'],
    ['an empty header', ''],
    ['no range at all', 'bytes='],
    ['a lone dash', 'bytes=-'],
    ['last before first', 'bytes=5-2'],
    ['letters', 'bytes=a-b'],
    ['a negative start', 'bytes=--3'],
    ['a fraction', 'bytes=1.5-3'],
    ['hex', 'bytes=0x1-0x3'],
    ['a start too large to be exact', 'bytes=99999999999999999999-'],
    ['an end too large to be exact', 'bytes=0-99999999999999999999'],
    ['a suffix too large to be exact', 'bytes=-99999999999999999999'],
  ])('%s (%j): ignored, the whole file', (_label, header) => {
    expect(parseRange(header, 10)).toEqual(WHOLE);
  });

  it('last < first is ignored even when first is past the size', () => {
    expect(parseRange('bytes=50-20', 10)).toEqual(WHOLE);
  });
});
