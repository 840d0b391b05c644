import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const FILE = join(resolve(__dirname, '..'), 'BENCHMARKS.md');

/**
 * Writes one benchmark's section of BENCHMARKS.md, between `<!-- <name>:start -->` and
 * `<!-- <name>:end -->` (appended at the end when absent); the rest of the file is left as it is.
 */
export function writeBenchmarksSection(name: string, section: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  // Read right before writing: other work may have changed the rest of the file meanwhile.
  const text = readFileSync(FILE, 'utf8');
  const block = `${start}\n\n${section}\n\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? `${text.slice(0, from)}${block}${text.slice(to + end.length)}`
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, next);
}
