import { etagFor, parseIfMatch, versionMatches } from './etag';

describe('etagFor', () => {
  it('builds a strong ETag from the version', () => {
    expect(etagFor(1)).toBe('"1"');
    expect(etagFor(42)).toBe('"42"');
  });

  it('is read back by parseIfMatch', () => {
    expect(parseIfMatch(etagFor(7))).toEqual([7]);
  });
});

describe('parseIfMatch', () => {
  it('lets the write through (undefined) when the header is absent', () => {
    expect(parseIfMatch(undefined)).toBeUndefined();
  });

  it('lets the write through for "*", surrounding spaces included', () => {
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch('  *  ')).toBeUndefined();
  });

  it('reads one strong tag', () => {
    expect(parseIfMatch('"3"')).toEqual([3]);
    expect(parseIfMatch(' "3" ')).toEqual([3]);
  });

  it('reads a comma-separated list of tags', () => {
    expect(parseIfMatch('"1", "2","10"')).toEqual([1, 2, 10]);
  });

  it('names no version for tags that are not ours, so that they never match', () => {
    expect(parseIfMatch('"abc"')).toEqual([]);
    expect(parseIfMatch('3')).toEqual([]);
    expect(parseIfMatch('"3')).toEqual([]);
    expect(parseIfMatch('"-1"')).toEqual([]);
    expect(parseIfMatch('"1.5"')).toEqual([]);
    // More digits than a version can have: not silently truncated or rounded.
    expect(parseIfMatch('"1234567890"')).toEqual([]);
  });

  it('never matches a weak tag: If-Match uses strong comparison', () => {
    expect(parseIfMatch('W/"3"')).toEqual([]);
    expect(parseIfMatch('W/"3", "4"')).toEqual([4]);
  });

  it('keeps the valid tags of a list and drops the others', () => {
    expect(parseIfMatch('"x", "4"')).toEqual([4]);
  });
});

describe('versionMatches', () => {
  it('matches anything when nothing is expected', () => {
    expect(versionMatches(undefined, 1)).toBe(true);
    expect(versionMatches(undefined, 99)).toBe(true);
  });

  it('matches when the current version is among the expected ones', () => {
    expect(versionMatches([5], 5)).toBe(true);
    expect(versionMatches([4, 5, 6], 5)).toBe(true);
  });

  it('does not match a stale version', () => {
    expect(versionMatches([4], 5)).toBe(false);
    expect(versionMatches([6], 5)).toBe(false);
  });

  it('does not match when the header named no usable version', () => {
    expect(versionMatches([], 1)).toBe(false);
    expect(versionMatches(parseIfMatch('"garbage"'), 1)).toBe(false);
  });

  it('works end to end with parseIfMatch', () => {
    expect(versionMatches(parseIfMatch('"2"'), 2)).toBe(true);
    expect(versionMatches(parseIfMatch('"1"'), 2)).toBe(false);
    expect(versionMatches(parseIfMatch('*'), 2)).toBe(true);
    expect(versionMatches(parseIfMatch(undefined), 2)).toBe(true);
  });
});
