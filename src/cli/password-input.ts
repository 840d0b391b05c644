import { StringDecoder } from 'node:string_decoder';

/**
 * Where an admin command gets a password, without putting it on the command line (where other
 * users see it in `ps` and the shell keeps it in its history): asked for in a terminal, not
 * shown as it is typed, or read from standard input with --password-stdin. --password <value>
 * still works, for scripts, with a warning.
 */

/** A terminal's input stream (process.stdin when it is a TTY), or any stream for the tests. */
export interface PasswordInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
}

export interface PasswordIo {
  input: PasswordInput;
  /** Where the prompt and warnings go: standard error, so that standard output stays the result. */
  output: NodeJS.WritableStream;
}

/** A password could not be had; its message says what to do. */
export class PasswordInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PasswordInputError';
  }
}

/** More than any password (the longest allowed is 128 characters): a file piped in by mistake. */
const MAX_STDIN_BYTES = 4096;

export const PASSWORD_FLAG_WARNING =
  'Warning: a password given with --password is visible to other users (ps) and stays in your shell history; leave it out to be asked for it, or pipe it in with --password-stdin';

/**
 * The password: from --password (`flag`), from standard input (`stdin`: --password-stdin), or,
 * with neither, asked for twice on a terminal. With neither and no terminal: an error.
 */
export async function readPassword(
  options: { flag?: string; stdin: boolean },
  io: PasswordIo = { input: process.stdin, output: process.stderr },
): Promise<string> {
  if (options.flag !== undefined && options.stdin) {
    throw new PasswordInputError('Give --password or --password-stdin, not both');
  }
  if (options.flag !== undefined) {
    io.output.write(PASSWORD_FLAG_WARNING + '\n');
    return options.flag;
  }
  if (options.stdin) {
    // Read from a terminal, the password would be echoed as typed: that is what the prompt is for.
    if (io.input.isTTY) {
      throw new PasswordInputError(
        '--password-stdin reads a pipe, and standard input is a terminal: leave the option out to be asked for the password with echo off',
      );
    }
    return passwordFromStream(io.input);
  }
  if (io.input.isTTY && io.input.setRawMode) {
    const password = await promptHidden('Password: ', io);
    const again = await promptHidden('Password (again): ', io);
    if (password !== again) throw new PasswordInputError('The two passwords differ: nothing changed');
    return password;
  }
  throw new PasswordInputError(
    'No password: run this in a terminal to be asked for it, or pipe it in with --password-stdin ' +
      `(printf '%s\\n' "$PASSWORD" | npm run cli -- create-admin --email … --password-stdin)`,
  );
}

/** All of `input` as one line: one trailing newline (`echo` adds it) is not part of the password. */
export async function passwordFromStream(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_STDIN_BYTES)
      throw new PasswordInputError('--password-stdin: standard input is over 4 KiB; give the password alone');
    chunks.push(bytes);
  }
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new PasswordInputError('--password-stdin: standard input was empty');
  if (/[\r\n]/.test(text)) {
    throw new PasswordInputError('--password-stdin: standard input holds more than one line; give the password alone');
  }
  return text;
}

/**
 * Asks on a terminal with echo off (raw mode): characters are read one by one and nothing of
 * them is written back. Enter ends, Backspace deletes, Ctrl-C and Ctrl-D (on an empty line) give up.
 */
export function promptHidden(prompt: string, io: PasswordIo): Promise<string> {
  const { input, output } = io;
  return new Promise((resolve, reject) => {
    let typed: string[] = [];
    const decoder = new StringDecoder('utf8'); // a character's bytes may come in two chunks
    const finish = (result: () => void): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
      result();
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of typeof chunk === 'string' ? chunk : decoder.write(chunk)) {
        if (char === '\r' || char === '\n') {
          const password = typed.join('');
          return finish(() => resolve(password));
        }
        if (char === '\u0003' || (char === '\u0004' && typed.length === 0)) {
          return finish(() => reject(new PasswordInputError('Cancelled: nothing changed')));
        }
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else if (char === '\u0015')
          typed = []; // Ctrl-U: start again
        else if (char >= ' ') typed.push(char);
      }
    };
    input.setRawMode?.(true); // before the prompt: nothing typed after it is echoed
    output.write(prompt);
    input.on('data', onData);
    input.resume();
  });
}
