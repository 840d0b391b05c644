import { contentDisposition, sanitizeFilename } from './filename';

const FALLBACK = 'upload.bin';
const clean = (raw: string | undefined): string => sanitizeFilename(raw, FALLBACK);

describe('sanitizeFilename', () => {
  it('keeps an ordinary name as it is', () => {
    expect(clean('report.pdf')).toBe('report.pdf');
    expect(clean('Quarterly report (final) v2.xlsx')).toBe('Quarterly report (final) v2.xlsx');
    expect(clean('a%20b')).toBe('a%20b');
  });

  it('keeps only the last segment of a POSIX path', () => {
    expect(clean('../../etc/passwd')).toBe('passwd');
    expect(clean('/etc/shadow')).toBe('shadow');
    expect(clean('uploads/../../../root/.ssh/id_rsa')).toBe('id_rsa');
  });

  it('keeps only the last segment of a Windows path (backslashes), mixed separators too', () => {
    expect(clean('C:\\Users\\me\\Desktop\\report.pdf')).toBe('report.pdf');
    expect(clean('..\\..\\windows\\system32\\drivers\\etc\\hosts')).toBe('hosts');
    expect(clean('a/b\\c/d.txt')).toBe('d.txt');
  });

  it('never decodes percent-encoding: a%2fb stays a%2fb (no path separator appears)', () => {
    expect(clean('a%2fb')).toBe('a%2fb');
    expect(clean('..%2f..%2fetc%2fpasswd')).toBe('%2f..%2fetc%2fpasswd'); // leading dots go, nothing is decoded
    expect(clean('%2e%2e%5cboot.ini')).toBe('%2e%2e%5cboot.ini');
  });

  it('removes control characters (C0, DEL, C1), line breaks included', () => {
    expect(clean('a\u0000b\u0007c\u001f.txt')).toBe('abc.txt');
    expect(clean('del\u007f.txt')).toBe('del.txt');
    expect(clean('c1\u0085\u009f.txt')).toBe('c1.txt');
    expect(clean('evil\r\nX-Header: 1.txt')).toBe('evilX-Header_ 1.txt');
    expect(clean('tab\there.txt')).toBe('tabhere.txt');
  });

  it('removes bidirectional overrides and invisible characters that disguise the extension', () => {
    // "invoice‮fdp.exe" displays as "invoiceexe.pdf".
    expect(clean('invoice\u202efdp.exe')).toBe('invoicefdp.exe');
    expect(clean('a\u202ab\u202bc\u202cd\u202de.txt')).toBe('abcde.txt');
    expect(clean('x\u2066y\u2067z\u2068w\u2069.png')).toBe('xyzw.png');
    expect(clean('zero\u200bwidth\u200f.txt')).toBe('zerowidth.txt');
    expect(clean('\ufeffbom.txt')).toBe('bom.txt');
  });

  it('replaces characters that file systems reject with _', () => {
    expect(clean('a<b>c:d"e|f?g*h.txt')).toBe('a_b_c_d_e_f_g_h.txt');
  });

  it('collapses runs of whitespace to one space', () => {
    expect(clean('a    b \u00a0 c.txt')).toBe('a b c.txt');
  });

  it('prefixes reserved Windows device names, with or without an extension, in any case', () => {
    for (const name of ['CON', 'con', 'Prn', 'AUX', 'nul', 'COM1', 'com9', 'LPT1', 'lpt0']) {
      expect(clean(name)).toBe(`_${name}`);
      expect(clean(`${name}.txt`)).toBe(`_${name}.txt`);
    }
    expect(clean('con.tar.gz')).toBe('_con.tar.gz');
  });

  it('leaves names that only start like a device name alone', () => {
    for (const name of ['console.txt', 'auxiliary', 'nullable.json', 'com10.txt', 'lpt.txt', 'prn1.txt']) {
      expect(clean(name)).toBe(name);
    }
  });

  it('strips leading dots (no hidden files, no ..)', () => {
    expect(clean('.htaccess')).toBe('htaccess');
    expect(clean('...hidden.txt')).toBe('hidden.txt');
    expect(clean(' . .bashrc')).toBe('bashrc');
  });

  it('strips trailing dots and spaces (which Windows drops silently)', () => {
    expect(clean('report.pdf.')).toBe('report.pdf');
    expect(clean('report.pdf. . ')).toBe('report.pdf');
    expect(clean('  padded name.txt   ')).toBe('padded name.txt');
  });

  it('a reserved name revealed by stripping is still prefixed', () => {
    expect(clean('..CON')).toBe('_CON');
    expect(clean('nul. . ')).toBe('_nul');
  });

  it('caps the length at 200 characters, keeping the extension', () => {
    const long = `${'a'.repeat(300)}.pdf`;
    const capped = clean(long);
    expect(capped).toHaveLength(200);
    expect(capped).toBe(`${'a'.repeat(196)}.pdf`);
  });

  it('keeps a name of exactly 200 characters whole', () => {
    const name = `${'b'.repeat(196)}.txt`;
    expect(clean(name)).toBe(name);
    expect(clean(`${'b'.repeat(197)}.txt`)).toBe(`${'b'.repeat(196)}.txt`);
  });

  it('cuts an over-long "extension" (over 16 characters) like the rest of the name', () => {
    const name = `${'c'.repeat(250)}.${'x'.repeat(20)}`;
    expect(clean(name)).toBe('c'.repeat(200));
  });

  it('counts characters, not UTF-16 units, and never splits a surrogate pair', () => {
    const capped = clean(`${'😀'.repeat(250)}.png`);
    expect([...capped]).toHaveLength(200);
    expect(capped).toBe(`${'😀'.repeat(196)}.png`);
    // No lone surrogate: a UTF-8 round trip changes nothing.
    expect(Buffer.from(capped, 'utf8').toString('utf8')).toBe(capped);
    const short = '😀'.repeat(150);
    expect(clean(short)).toBe(short);
  });

  it('falls back when nothing is left', () => {
    for (const raw of [undefined, '', '   ', '.', '..', '...', '/', 'dir/', 'a\\', '\u202e\u0000', '. . .']) {
      expect(clean(raw)).toBe(FALLBACK);
    }
    expect(sanitizeFilename('', 'attachment.pdf')).toBe('attachment.pdf');
  });

  it('normalizes to NFC', () => {
    const decomposed = 'cafe\u0301.txt';
    const result = clean(decomposed);
    expect(result).toBe('caf\u00e9.txt');
    expect(result).toBe(result.normalize('NFC'));
    expect(clean('\u212b.txt')).toBe('\u00c5.txt'); // ANGSTROM SIGN → Å
  });

  it('keeps non-Latin names', () => {
    expect(clean('報告書 2026.docx')).toBe('報告書 2026.docx');
    expect(clean('Привет.txt')).toBe('Привет.txt');
  });
});

describe('contentDisposition', () => {
  /** The two parameters of a header this module built. */
  function parts(header: string): { type: string; fallback: string; encoded: string } {
    const match = /^(attachment|inline); filename="([^"]*)"; filename\*=UTF-8''(.*)$/.exec(header);
    expect(match).not.toBeNull();
    return { type: match![1], fallback: match![2], encoded: match![3] };
  }

  it('an ASCII name appears in both parameters unchanged', () => {
    expect(contentDisposition('attachment', 'report.pdf')).toBe(
      `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
    expect(contentDisposition('inline', 'a.png')).toBe(`inline; filename="a.png"; filename*=UTF-8''a.png`);
  });

  it('spaces are kept in the quoted fallback and percent-encoded in filename*', () => {
    expect(contentDisposition('attachment', 'my file.txt')).toBe(
      `attachment; filename="my file.txt"; filename*=UTF-8''my%20file.txt`,
    );
  });

  it('quotes, backslashes and % are replaced in the fallback and percent-encoded in filename*', () => {
    expect(contentDisposition('attachment', 'say "hi".txt')).toBe(
      `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`,
    );
    expect(contentDisposition('attachment', 'a\\b.txt')).toBe(
      `attachment; filename="a_b.txt"; filename*=UTF-8''a%5Cb.txt`,
    );
    // % in the fallback would be read as an escape by some clients.
    expect(contentDisposition('attachment', '100%.txt')).toBe(
      `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`,
    );
    expect(contentDisposition('attachment', 'a%2fb')).toBe(`attachment; filename="a_2fb"; filename*=UTF-8''a%252fb`);
  });

  it("encodes ' ( ) * in filename*, which RFC 8187's attr-char does not allow", () => {
    const { fallback, encoded } = parts(contentDisposition('attachment', "it's (1)*.txt"));
    expect(encoded).toBe('it%27s%20%281%29%2A.txt');
    expect(fallback).toBe("it's (1)*.txt");
  });

  it('non-ASCII: _ in the fallback, UTF-8 percent-encoding in filename*', () => {
    expect(contentDisposition('attachment', 'résumé.pdf')).toBe(
      `attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`,
    );
    const { fallback, encoded } = parts(contentDisposition('attachment', '日本😀.png'));
    expect(encoded).toBe('%E6%97%A5%E6%9C%AC%F0%9F%98%80.png');
    expect(fallback).toMatch(/^_+\.png$/);
  });

  it('the fallback is always printable ASCII without " \\ %, and filename* decodes back to the name', () => {
    const names = [
      'plain.txt',
      'sp ace.txt',
      'q"uote.txt',
      'b\\ack.txt',
      'per%cent.txt',
      "a'b(c)d*e!f~g.txt",
      'ünïcödé.docx',
      '報告書.xlsx',
      '😀😀.png',
      'semi;colon,comma=equals.txt',
      'tab\there.txt',
    ];
    for (const name of names) {
      const { type, fallback, encoded } = parts(contentDisposition('attachment', name));
      expect(type).toBe('attachment');
      expect(fallback).toMatch(/^[\x20-\x7e]*$/);
      expect(fallback).not.toMatch(/["\\%]/);
      expect(encoded).toMatch(/^[A-Za-z0-9!#$&+.^_`|~%-]*$/);
      expect(decodeURIComponent(encoded)).toBe(name);
    }
  });
});
