import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { HEAD_BYTES, Sniffed, SniffedFile, sniffContentType } from './content-sniffer';

// The sniffer sees a file as IncomingFileEngine leaves it: the bytes in a temporary file, its
// first HEAD_BYTES bytes, and whether it is text. The same judgement is made here from the
// whole buffer: valid UTF-8, no C0 control other than tab, LF, VT, FF, CR and ESC, no DEL,
// and not empty.

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const ODT = 'application/vnd.oasis.opendocument.text';
const ODS = 'application/vnd.oasis.opendocument.spreadsheet';
const ODP = 'application/vnd.oasis.opendocument.presentation';

const TEXT_CONTROLS = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b];

function isTextual(bytes: Buffer): boolean {
  if (bytes.length === 0) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  return !bytes.some((b) => (b < 0x20 && !TEXT_CONTROLS.includes(b)) || b === 0x7f);
}

let dir: string;
let fileCount = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tasklane-sniff-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The bytes as an uploaded file, then sniffed. */
async function sniff(content: Buffer | string): Promise<Sniffed | undefined> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const path = join(dir, `upload-${++fileCount}`);
  writeFileSync(path, bytes);
  const file: SniffedFile = {
    path,
    size: bytes.length,
    head: Buffer.from(bytes.subarray(0, HEAD_BYTES)),
    textual: isTextual(bytes),
  };
  return sniffContentType(file);
}

const bytes = (...parts: (number[] | string | Buffer)[]): Buffer =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.isBuffer(p) ? p : Buffer.from(p))),
  );

/** Deterministic bytes that are not text (a NUL among them) and match no signature. */
function binaryNoise(length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0x00;
  out[1] = 0x01;
  return out;
}

// -------------------------------------------------------------------------------------------
// A tiny ZIP writer: local headers, data, central directory, end of central directory.

interface ZipEntry {
  name: string;
  data: Buffer | string;
  /** Deflate it (method 8) instead of storing it (method 0). */
  deflate?: boolean;
}

function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const raw = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data, 'utf8');
    const stored = entry.deflate ? deflateRawSync(raw) : raw;
    const method = entry.deflate ? 8 : 0;
    const crc = crc32(raw);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // flags: UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date: 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra length
    locals.push(local, name, stored);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6); // version needed
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(0, 38); // external attributes
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES = { name: '[Content_Types].xml', data: '<?xml version="1.0"?><Types/>' };
const RELS = { name: '_rels/.rels', data: '<?xml version="1.0"?><Relationships/>' };
const ooxml = (...parts: string[]): Buffer =>
  zip([CONTENT_TYPES, RELS, ...parts.map((name) => ({ name, data: '<?xml version="1.0"?><x/>', deflate: true }))]);
const odf = (mimetype: string, deflateMimetype = false, ...extra: string[]): Buffer =>
  zip([
    { name: 'mimetype', data: mimetype, deflate: deflateMimetype },
    { name: 'META-INF/manifest.xml', data: '<manifest/>', deflate: true },
    { name: 'content.xml', data: '<office:document-content/>', deflate: true },
    ...extra.map((name) => ({ name, data: '<?xml version="1.0"?><x/>', deflate: true })),
  ]);
/** An OOXML package whose [Content_Types].xml (deflated, as Office writes it) declares these types. */
const ooxmlDeclaring = (main: string, overrides: [part: string, type: string][]): Buffer =>
  zip([
    {
      name: '[Content_Types].xml',
      deflate: true,
      data: `<?xml version="1.0"?><Types>${overrides
        .map(([part, type]) => `<Override PartName="/${part}" ContentType="${type}"/>`)
        .join('')}</Types>`,
    },
    RELS,
    ...[main, ...overrides.map(([part]) => part)].map((name) => ({ name, data: '<x/>', deflate: true })),
  ]);

// -------------------------------------------------------------------------------------------

describe('sniffContentType', () => {
  describe('images and PDF, by their magic numbers', () => {
    it('PNG', async () => {
      const png = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0, 0, 0, 13], 'IHDR', binaryNoise(40));
      expect(await sniff(png)).toEqual({ contentType: 'image/png' });
    });

    it('not PNG when the signature is cut short or altered', async () => {
      expect(await sniff(bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x00], binaryNoise(40)))).toBeUndefined();
      expect(await sniff(bytes([0x89, 0x50, 0x4e, 0x47]))).toBeUndefined();
    });

    it('JPEG (JFIF and Exif)', async () => {
      expect(await sniff(bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], 'JFIF', binaryNoise(40)))).toEqual({
        contentType: 'image/jpeg',
      });
      expect(await sniff(bytes([0xff, 0xd8, 0xff, 0xe1], 'Exif', binaryNoise(40)))).toEqual({
        contentType: 'image/jpeg',
      });
    });

    it('GIF87a and GIF89a', async () => {
      expect(await sniff(bytes('GIF87a', [0x01, 0x00, 0x01, 0x00, 0x80], binaryNoise(20)))).toEqual({
        contentType: 'image/gif',
      });
      expect(await sniff(bytes('GIF89a', [0x01, 0x00, 0x01, 0x00, 0x80], binaryNoise(20)))).toEqual({
        contentType: 'image/gif',
      });
    });

    it('WebP: RIFF with WEBP at offset 8; another RIFF (WAVE) is not recognised', async () => {
      expect(await sniff(bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ', binaryNoise(40)))).toEqual({
        contentType: 'image/webp',
      });
      expect(await sniff(bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ', binaryNoise(40)))).toBeUndefined();
    });

    it('PDF', async () => {
      expect(await sniff(bytes('%PDF-1.7\n%', [0xe2, 0xe3, 0xcf, 0xd3], '\n1 0 obj\n', binaryNoise(30)))).toEqual({
        contentType: 'application/pdf',
      });
      // A textual PDF is still a PDF, not text.
      expect(await sniff('%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n')).toEqual({ contentType: 'application/pdf' });
    });
  });

  describe('text', () => {
    it.each([
      ['ASCII', 'Hello, world.\n'],
      ['UTF-8', 'Ünïcödé — 日本語 — 😀\n'],
      ['with a BOM', '\ufeffNotes\r\nline 2\r\n'],
      ['with tabs, form feed and ESC', 'a\tb\fc\u001b[0m\n'],
      ['CSV', 'id,name\n1,Ann\n'],
      ['JSON', '{"a": [1, 2, 3]}\n'],
      ['markup later in the text', 'See the <html> tag and <script> too.\n'],
      ['a tag-like word that is not HTML', '<bold> is not a tag\n'],
      ['a comparison', 'a < b and c > d\n'],
      ['Markdown', '# Title\n\n- item\n'],
    ])('%s → text/plain', async (_label, text) => {
      expect(await sniff(text)).toEqual({ contentType: 'text/plain' });
    });

    it('longer than HEAD_BYTES, judged on the head', async () => {
      expect(await sniff('plain words '.repeat(1000))).toEqual({ contentType: 'text/plain' });
    });

    it('text with a NUL byte, or invalid UTF-8, is not text (and not recognised)', async () => {
      expect(await sniff(bytes('hello', [0x00], 'world'))).toBeUndefined();
      expect(await sniff(bytes('caf', [0xe9], ' au lait'))).toBeUndefined(); // latin1 é
    });

    it('an empty file is not recognised', async () => {
      expect(await sniff(Buffer.alloc(0))).toBeUndefined();
    });
  });

  describe('HTML, XML and SVG are refused', () => {
    it.each([
      ['a doctype', '<!DOCTYPE html>\n<html><body>x</body></html>'],
      ['a lower-case doctype', '<!doctype html><title>x</title>'],
      ['<html>', '<html><body>x</body></html>'],
      ['upper case', '<HTML><BODY>X</BODY></HTML>'],
      ['mixed case', '<HtMl>'],
      ['leading whitespace', '  \n\t <html>'],
      ['a BOM', '\ufeff<html>'],
      ['a BOM and whitespace', '\ufeff \r\n<script>alert(1)</script>'],
      ['<head>', '<head><meta charset="utf-8"></head>'],
      ['<script>', '<script>alert(document.cookie)</script>'],
      ['<script src>', '<script src="https://evil.example/x.js"></script>'],
      ['<iframe>', '<iframe src="https://evil.example"></iframe>'],
      ['<body onload>', '<body onload="alert(1)">'],
      ['<div>', '<div>x</div>'],
      ['<a href>', '<a href="javascript:alert(1)">x</a>'],
      ['<p>', '<p>para'],
      ['<b>', '<b>bold</b>'],
      ['<br>', '<br>'],
      ['<style>', '<style>body{}</style>'],
      ['<table>', '<table><tr><td>1</td></tr></table>'],
      ['<title>', '<title>x</title>'],
      ['<h1>', '<h1>Title</h1>'],
      ['<font>', '<font color=red>x</font>'],
      ['an HTML comment', '<!-- hi -->\n<p>x</p>'],
      ['an XML declaration', '<?xml version="1.0" encoding="UTF-8"?>\n<root/>'],
      ['an SVG', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
      ['<svg/onload>', '<svg/onload=alert(1)>'],
      ['an upper-case SVG', '<SVG>'],
      ['an XML-declared SVG', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'],
    ])('%s', async (_label, text) => {
      expect(await sniff(text)).toEqual({ refused: 'HTML, XML or SVG' });
    });
  });

  describe('scripts and executables are refused', () => {
    it.each([
      ['a shell script', '#!/bin/sh\nrm -rf /\n'],
      ['env', '#!/usr/bin/env python3\nprint(1)\n'],
      ['after whitespace', '\n  #!/bin/bash\n'],
      ['after a BOM', '\ufeff#!/bin/sh\n'],
    ])('%s', async (_label, text) => {
      expect(await sniff(text)).toEqual({ refused: 'a script' });
    });

    it('ELF', async () => {
      expect(await sniff(bytes([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00], binaryNoise(56)))).toEqual({
        refused: 'an executable',
      });
    });

    it('PE (MZ)', async () => {
      expect(await sniff(bytes('MZ', [0x90, 0x00, 0x03, 0x00], binaryNoise(58)))).toEqual({ refused: 'an executable' });
    });

    it('text that merely starts with "MZ" is still text', async () => {
      expect(await sniff(bytes('MZ is the magic number of DOS executables.\n'))).toEqual({ contentType: 'text/plain' });
    });

    it.each([
      ['32-bit', [0xfe, 0xed, 0xfa, 0xce]],
      ['64-bit', [0xfe, 0xed, 0xfa, 0xcf]],
      ['32-bit little-endian', [0xce, 0xfa, 0xed, 0xfe]],
      ['64-bit little-endian', [0xcf, 0xfa, 0xed, 0xfe]],
      ['universal (fat)', [0xca, 0xfe, 0xba, 0xbe]],
    ])('Mach-O, %s', async (_label, magic) => {
      expect(await sniff(bytes(magic, binaryNoise(60)))).toEqual({ refused: 'an executable' });
    });

    it('legacy Office (OLE compound file)', async () => {
      expect(await sniff(bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], binaryNoise(504)))).toEqual({
        refused: 'a legacy Office document (these may carry macros)',
      });
    });
  });

  describe('ZIP-based documents', () => {
    it.each([
      ['text', ODT],
      ['spreadsheet', ODS],
      ['presentation', ODP],
    ])('OpenDocument %s: a stored "mimetype" first entry names the type', async (_label, type) => {
      expect(await sniff(odf(type))).toEqual({ contentType: type });
    });

    it('OpenDocument with a type we do not take (a template, EPUB) is not recognised', async () => {
      expect(await sniff(odf('application/vnd.oasis.opendocument.text-template'))).toBeUndefined();
      expect(await sniff(odf('application/epub+zip'))).toBeUndefined();
      expect(await sniff(odf('text/html'))).toBeUndefined();
    });

    it('a deflated "mimetype" entry is not read as an OpenDocument', async () => {
      expect(await sniff(odf(ODT, true))).toBeUndefined();
    });

    it('Office Open XML: docx, xlsx and pptx, by their main part', async () => {
      expect(await sniff(ooxml('word/document.xml', 'word/styles.xml'))).toEqual({ contentType: DOCX });
      expect(await sniff(ooxml('xl/workbook.xml', 'xl/worksheets/sheet1.xml'))).toEqual({ contentType: XLSX });
      expect(await sniff(ooxml('ppt/presentation.xml', 'ppt/slides/slide1.xml'))).toEqual({ contentType: PPTX });
    });

    it('reads the central directory from the file, past the head', async () => {
      const padded = zip([
        CONTENT_TYPES,
        { name: 'word/media/image1.bin', data: binaryNoise(HEAD_BYTES * 3) },
        { name: 'word/document.xml', data: '<w:document/>' },
      ]);
      expect(padded.length).toBeGreaterThan(HEAD_BYTES * 3);
      expect(await sniff(padded)).toEqual({ contentType: DOCX });
    });

    it.each([
      ['a docx', 'word/document.xml', 'word/vbaProject.bin'],
      ['an xlsx', 'xl/workbook.xml', 'xl/vbaProject.bin'],
      ['a pptx', 'ppt/presentation.xml', 'ppt/vbaProject.bin'],
      ['a docx (another case)', 'word/document.xml', 'word/VBAPROJECT.BIN'],
    ])('%s with a vbaProject.bin (macros) is refused', async (_label, main, macros) => {
      expect(await sniff(ooxml(main, macros))).toEqual({ refused: 'an Office document with macros' });
    });

    it('with [Content_Types].xml declaring no macros, a deflated one is read and the document accepted', async () => {
      const docx = ooxmlDeclaring('word/document.xml', [
        ['word/document.xml', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml'],
      ]);
      expect(await sniff(docx)).toEqual({ contentType: DOCX });
    });

    it.each([
      ['a VBA part under another name', 'word/document.xml', 'word/code.bin', 'application/vnd.ms-office.vbaProject'],
      [
        'a macro-enabled main part (.xlsm)',
        'xl/workbook.xml',
        'xl/workbook.xml',
        'application/vnd.ms-excel.sheet.macroEnabled.main+xml',
      ],
      ['VBA data', 'word/document.xml', 'word/vbaData.xml', 'application/vnd.ms-word.vbaData+xml'],
    ])('%s declared in [Content_Types].xml is refused', async (_label, main, part, type) => {
      expect(await sniff(ooxmlDeclaring(main, [[part, type]]))).toEqual({ refused: 'an Office document with macros' });
    });

    it.each([
      ['StarBasic macros (Basic/)', 'Basic/Standard/Module1.xml'],
      ['a Basic library index', 'Basic/script-lc.xml'],
      ['Basic dialogs (Dialogs/)', 'Dialogs/Standard/Dialog1.xml'],
      ['Python scripts (Scripts/)', 'Scripts/python/macro.py'],
      ['JavaScript scripts, another case', 'scripts/javascript/macro.js'],
    ])('OpenDocument with %s is refused', async (_label, entry) => {
      for (const type of [ODT, ODS, ODP]) {
        expect(await sniff(odf(type, false, entry))).toEqual({ refused: 'an OpenDocument file with macros' });
      }
    });

    it('OpenDocument whose entries merely mention macros (a picture named Basic.png) is accepted', async () => {
      expect(await sniff(odf(ODT, false, 'Pictures/Basic.png', 'Thumbnails/Scripts.png'))).toEqual({
        contentType: ODT,
      });
    });

    it('a ZIP with more than 10,000 entries is not read, so not recognised', async () => {
      const many = Array.from({ length: 10_001 }, (_, i) => ({ name: `word/media/${i}.xml`, data: '' }));
      expect(await sniff(zip([CONTENT_TYPES, { name: 'word/document.xml', data: '<x/>' }, ...many]))).toBeUndefined();
      const fewer = many.slice(0, 9_000);
      expect(await sniff(zip([CONTENT_TYPES, { name: 'word/document.xml', data: '<x/>' }, ...fewer]))).toEqual({
        contentType: DOCX,
      });
    });

    it('an OOXML package without a known main part is not recognised', async () => {
      expect(await sniff(ooxml('visio/document.xml'))).toBeUndefined();
      expect(await sniff(zip([CONTENT_TYPES]))).toBeUndefined();
    });

    it('the main part without [Content_Types].xml is not Office', async () => {
      expect(await sniff(zip([{ name: 'word/document.xml', data: '<w:document/>' }]))).toBeUndefined();
    });

    it('a plain ZIP is not recognised', async () => {
      expect(
        await sniff(
          zip([
            { name: 'readme.txt', data: 'hello' },
            { name: 'bin/tool.exe', data: bytes('MZ', binaryNoise(100)), deflate: true },
          ]),
        ),
      ).toBeUndefined();
    });

    it('a truncated ZIP (no end of central directory) is not recognised', async () => {
      const whole = ooxml('word/document.xml');
      expect(await sniff(whole.subarray(0, whole.length - 30))).toBeUndefined();
    });

    it('a ZIP whose directory points past the end is not recognised', async () => {
      const broken = Buffer.from(ooxml('word/document.xml'));
      broken.writeUInt32LE(broken.length + 100, broken.length - 22 + 16);
      expect(await sniff(broken)).toBeUndefined();
    });
  });

  it('random binary is not recognised', async () => {
    expect(await sniff(binaryNoise(HEAD_BYTES + 100))).toBeUndefined();
    expect(await sniff(binaryNoise(3))).toBeUndefined();
  });
});
