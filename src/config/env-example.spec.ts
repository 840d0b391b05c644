import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnvironment } from './env.schema';

// .env.example is where an operator learns what can be set: every variable Tasklane reads is
// there (set or commented out), each under a comment, and nothing it does not read.
describe('.env.example', () => {
  const text = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
  const lines = text.split('\n');
  const listed = lines.flatMap((line, index) => {
    const match = /^#? ?([A-Z][A-Z0-9_]+)=/.exec(line);
    return match ? [{ name: match[1], index }] : [];
  });
  // Every variable of the schema, and the one read outside it (the folder of local state)
  const read = [...Object.keys(parseEnvironment({})), 'TASKLANE_DATA_DIR'].sort();

  it('lists every variable Tasklane reads, and only those', () => {
    expect([...new Set(listed.map((entry) => entry.name))].sort()).toEqual(read);
  });

  it('says what each one is: a comment line above it, or above the group it is in', () => {
    for (const { name, index } of listed) {
      let above = index - 1;
      while (above >= 0 && /^#? ?[A-Z][A-Z0-9_]+=/.test(lines[above])) above--;
      expect({ name, comment: lines[above]?.startsWith('# ') }).toEqual({ name, comment: true });
    }
  });
});
