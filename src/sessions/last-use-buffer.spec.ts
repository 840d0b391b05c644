import { LAST_USE_MAX_ENTRIES, LastUseBuffer } from './last-use-buffer';

describe('LastUseBuffer', () => {
  it('keeps the latest use of each id and hands them to one write', async () => {
    const buffer = new LastUseBuffer();
    buffer.touch('a', 1_000);
    buffer.touch('a', 3_000);
    buffer.touch('a', 2_000); // older than what is known: ignored
    buffer.touch('b', 5_000);
    const written: [string[], number[]][] = [];
    await buffer.flush((ids, usedAt) => {
      written.push([ids, usedAt.map((d) => d.getTime())]);
      return Promise.resolve();
    });
    expect(written).toEqual([
      [
        ['a', 'b'],
        [3_000, 5_000],
      ],
    ]);
    expect(buffer.size).toBe(0);
  });

  it('10× the cap of distinct ids between two writes: never more than the cap, the first noted dropped', () => {
    const buffer = new LastUseBuffer(50);
    for (let i = 0; i < 500; i++) {
      buffer.touch(`id-${i}`, i);
      expect(buffer.size).toBeLessThanOrEqual(50);
    }
    expect(buffer.size).toBe(50);
    expect(buffer.lastUse('id-499')).toEqual(new Date(499));
    expect(buffer.lastUse('id-450')).toEqual(new Date(450));
    expect(buffer.lastUse('id-449')).toBeUndefined();
    // A later use of an id already held takes no room.
    buffer.touch('id-450', 10_000);
    expect(buffer.size).toBe(50);
    expect(buffer.lastUse('id-499')).toEqual(new Date(499));
  });

  it('a failing database: what each failed write gives back stays within the cap', async () => {
    const buffer = new LastUseBuffer(100);
    const failing = () => Promise.reject(new Error('database unreachable'));
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 60; i++) buffer.touch(`r${round}-${i}`, round * 1_000 + i);
      await expect(buffer.flush(failing)).rejects.toThrow('database unreachable');
      expect(buffer.size).toBeLessThanOrEqual(100);
    }
    expect(buffer.size).toBe(100);
    // The most recent uses are the ones still waiting.
    expect(buffer.lastUse('r9-59')).toEqual(new Date(9_059));
  });

  it('the default cap', () => {
    const buffer = new LastUseBuffer();
    for (let i = 0; i < LAST_USE_MAX_ENTRIES + 1_000; i++) buffer.touch(`session-${i}`, i);
    expect(buffer.size).toBe(LAST_USE_MAX_ENTRIES);
  });
});
