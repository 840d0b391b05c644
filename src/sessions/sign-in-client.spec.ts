import { storedIp, storedUserAgent } from './sign-in-client';

describe('what a session keeps of where its sign-in came from', () => {
  describe('storedUserAgent: printable ASCII kept, a tab a space, each run of anything else one "?"', () => {
    it.each([
      ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
      ['curl/8.5.0'],
      [' !"#$%&\'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~'.trim()],
    ])('a header of printable ASCII is kept as sent: %j', (header) => {
      expect(storedUserAgent(header)).toBe(header);
    });

    it.each([
      // UTF-8 é as Node hands it over (its two bytes read as Latin-1): not stored as mojibake
      ['Caf\u00c3\u00a9App/1.0', 'Caf?App/1.0'],
      ['Mozilla\u00e9\u0001x', 'Mozilla?x'],
      ['Agent/1.0\t(Linux)', 'Agent/1.0 (Linux)'],
      ['\tAgent/1.0\t', 'Agent/1.0'],
      ['Agent\u0000\u001b[31m/1', 'Agent?[31m/1'],
      ['Agent/1.0\u007f', 'Agent/1.0?'],
      ['a\u00ffb\u0080c', 'a?b?c'],
      ['\u65e5\u672c/2 \ud83d\ude00', '?/2 ?'],
      ['line\r\nbreak', 'line?break'],
    ])('%j is stored as %j', (header, stored) => {
      expect(storedUserAgent(header)).toBe(stored);
    });

    it.each([[undefined], [''], ['   '], ['\t \t']])(
      '%j (no header, or nothing left but whitespace) is null',
      (header) => {
        expect(storedUserAgent(header)).toBeNull();
      },
    );

    it('whatever it is sent, it stores printable ASCII only, never longer than sent', () => {
      const header = Array.from({ length: 2000 }, (_, i) => String.fromCharCode((i * 37) % 0x100)).join('');
      const stored = storedUserAgent(header)!;
      expect(stored).toMatch(/^[\x20-\x7e]+$/);
      expect(stored.length).toBeLessThanOrEqual(header.length);
    });
  });

  describe('storedIp: req.ip when it is an IP address, else null', () => {
    it.each(['203.0.113.7', '2001:db8::42', '::ffff:127.0.0.1', 'fe80::1'])('%s is kept', (ip) => {
      expect(storedIp(ip)).toBe(ip);
    });

    // What Express gives as req.ip under TRUST_PROXY when a forged X-Forwarded-For entry is taken
    it.each([
      undefined,
      '',
      'unknown',
      '<b>203.0.113.7</b>',
      '203.0.113.7:443',
      '[2001:db8::42]',
      'fe80::1%eth0', // a zone: not in the documented pattern of `ip`
      'Caf\u00c3\u00a9',
    ])('%j is null', (ip) => {
      expect(storedIp(ip)).toBeNull();
    });
  });
});
