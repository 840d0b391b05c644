import { PassThrough, Readable } from 'node:stream';
import { PASSWORD_FLAG_WARNING, PasswordInput, PasswordInputError, readPassword } from './password-input';

/** A terminal as the prompt sees it: raw mode switched on and off, keys arriving after the prompt. */
function terminal(): { input: PasswordInput & PassThrough; output: PassThrough; shown: () => string; raw: boolean[] } {
  const input = Object.assign(new PassThrough(), { isTTY: true }) as PasswordInput & PassThrough;
  const raw: boolean[] = [];
  input.setRawMode = (mode: boolean) => raw.push(mode);
  const output = new PassThrough();
  let shown = '';
  output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
  return { input, output, shown: () => shown, raw };
}

/** Types `keys` once `prompt` has been shown. */
async function typeAfter(t: ReturnType<typeof terminal>, prompt: string, keys: string): Promise<void> {
  while (!t.shown().endsWith(prompt)) await new Promise((resolve) => setImmediate(resolve));
  t.input.write(keys);
}

const piped = (text: string): PasswordInput => Readable.from([Buffer.from(text)]);

describe('readPassword', () => {
  it('--password: the value, and a warning that ps and the shell history show it', async () => {
    const output = new PassThrough();
    const password = await readPassword({ flag: 'a long password', stdin: false }, { input: piped(''), output });
    expect(password).toBe('a long password');
    expect(output.read()?.toString()).toBe(PASSWORD_FLAG_WARNING + '\n');
  });

  it.each([
    ['one line, as echo writes it', 'a long password\n', 'a long password'],
    ['without a newline (printf %s)', 'a long password', 'a long password'],
    ['a Windows line end', 'a long password\r\n', 'a long password'],
    ['spaces kept, inside and at the ends', '  spaced out  \n', '  spaced out  '],
    ['UTF-8', 'mot de passe égaré ✓\n', 'mot de passe égaré ✓'],
  ])('--password-stdin: %s', async (_, text, expected) => {
    const output = new PassThrough();
    expect(await readPassword({ stdin: true }, { input: piped(text), output })).toBe(expected);
    expect(output.read()).toBeNull(); // nothing said
  });

  it.each([
    ['empty', '', 'standard input was empty'],
    ['only a newline', '\n', 'standard input was empty'],
    ['two lines', 'first\nsecond\n', 'more than one line'],
    ['over 4 KiB (a file piped in by mistake)', 'x'.repeat(5000), 'over 4 KiB'],
  ])('--password-stdin refuses %s input', async (_, text, message) => {
    await expect(readPassword({ stdin: true }, { input: piped(text), output: new PassThrough() })).rejects.toThrow(
      message,
    );
  });

  it('--password-stdin from a terminal: refused (what is typed would be echoed)', async () => {
    const t = terminal();
    await expect(readPassword({ stdin: true }, t)).rejects.toThrow('standard input is a terminal');
    expect(t.raw).toEqual([]);
  });

  it('refuses --password with --password-stdin', async () => {
    const attempt = readPassword(
      { flag: 'a long password', stdin: true },
      { input: piped('x'), output: new PassThrough() },
    );
    await expect(attempt).rejects.toThrow('not both');
  });

  it('neither, and no terminal: an error saying how to give it', async () => {
    const attempt = readPassword({ stdin: false }, { input: piped('a long password\n'), output: new PassThrough() });
    await expect(attempt).rejects.toThrow(
      new PasswordInputError(
        `No password: run this in a terminal to be asked for it, or pipe it in with --password-stdin (printf '%s\\n' "$PASSWORD" | npm run cli -- create-admin --email … --password-stdin)`,
      ),
    );
  });

  describe('in a terminal', () => {
    it('asks twice with echo off; Backspace and Ctrl-U edit; nothing typed is shown', async () => {
      const t = terminal();
      const password = readPassword({ stdin: false }, t);
      await typeAfter(t, 'Password: ', 'wrong\u0015a long passwore\u007fd\r');
      await typeAfter(t, 'Password (again): ', 'a long password\r');
      expect(await password).toBe('a long password');
      expect(t.shown()).toBe('Password: \nPassword (again): \n');
      expect(t.raw).toEqual([true, false, true, false]); // echo back on after each
    });

    it('two different answers: an error, nothing changed', async () => {
      const t = terminal();
      const password = readPassword({ stdin: false }, t);
      await typeAfter(t, 'Password: ', 'a long password\r');
      await typeAfter(t, 'Password (again): ', 'a long pasword\r');
      await expect(password).rejects.toThrow('The two passwords differ');
    });

    it.each([
      ['Ctrl-C', 'a long\u0003'],
      ['Ctrl-D on an empty line', '\u0004'],
    ])('%s cancels, and the terminal gets its echo back', async (_, keys) => {
      const t = terminal();
      const password = readPassword({ stdin: false }, t);
      await typeAfter(t, 'Password: ', keys);
      await expect(password).rejects.toThrow('Cancelled');
      expect(t.raw).toEqual([true, false]);
    });
  });
});
