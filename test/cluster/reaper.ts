// The cluster test's last line of defence: a process of its own that learns, line by line on its
// stdin, of every process group the test starts (`+<pgid>`, `-<pgid>` once stopped) and of every
// temporary folder (`dir <path>`, `-dir <path>`). When its stdin closes (the test process ended,
// however: normally, Ctrl-C, a CI timeout, SIGKILL) it sends SIGTERM to each group still listed,
// SIGKILL two seconds later, removes the folders, and exits. Jest's sandbox has no process
// 'exit' event of its own, so this is what cleans up when afterAll never runs.
import { rmSync } from 'node:fs';

const groups = new Set<number>();
const dirs = new Set<string>();
let pending = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    if (line.startsWith('+')) groups.add(Number(line.slice(1)));
    else if (line.startsWith('-dir ')) dirs.delete(line.slice(5));
    else if (line.startsWith('-')) groups.delete(Number(line.slice(1)));
    else if (line.startsWith('dir ')) dirs.add(line.slice(4));
  }
});

const signal = (pgid: number, name: NodeJS.Signals): boolean => {
  try {
    process.kill(-pgid, name);
    return true;
  } catch {
    return false;
  }
};

process.stdin.on('end', () => {
  const alive = [...groups].filter((pgid) => signal(pgid, 'SIGTERM'));
  setTimeout(
    () => {
      for (const pgid of alive) signal(pgid, 'SIGKILL');
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    },
    alive.length ? 2000 : 0,
  );
});
