import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Response } from 'supertest';
import type { S3TestServer } from './s3-server';
import type { TestApp } from './test-app';
import { bearer, SignedInUser } from './users';

// Small files of each kind an upload may be (judged by their magic numbers, as the server
// does), multipart bodies built byte by byte (so that the test, not a client library, decides
// the filename and the framing), and a look at what ended up in UPLOAD_DIR.

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A real 1×1 PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** JPEG: SOI + a JFIF APP0 segment + some bytes + EOI (the sniffer needs FF D8 FF). */
export const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]),
  Buffer.from('JFIF\0', 'latin1'),
  Buffer.from([0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
  randomBytes(64),
  Buffer.from([0xff, 0xd9]),
]);

/** GIF89a, 1×1. */
export const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** WebP: RIFF <size> WEBP VP8L … */
export function webp(): Buffer {
  const chunk = Buffer.concat([Buffer.from('VP8L', 'latin1'), Buffer.from([0x0a, 0, 0, 0]), randomBytes(10)]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(4 + chunk.length);
  return Buffer.concat([Buffer.from('RIFF', 'latin1'), size, Buffer.from('WEBP', 'latin1'), chunk]);
}

export const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n',
  'latin1',
);

export const TEXT = Buffer.from('Plain notes.\nSecond line, with ünïcödé and a tab\there.\n', 'utf8');

/** An ELF header (Linux executable). */
export const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]), Buffer.alloc(56)]);

/** An MZ header (Windows executable). */
export const MZ = Buffer.concat([Buffer.from('MZ', 'latin1'), Buffer.from([0x90, 0x00, 0x03]), Buffer.alloc(59)]);

/** The OLE compound file header of a legacy .doc/.xls/.ppt. */
export const OLE_DOC = Buffer.concat([
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
  Buffer.alloc(504),
]);

export const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n');
export const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>\n');
export const XML = Buffer.from('<?xml version="1.0"?>\n<note><to>you</to></note>\n');
export const SCRIPT = Buffer.from('#!/bin/sh\nrm -rf "$HOME"\n');

// --- ZIP (stored entries, no compression): enough for Office Open XML and OpenDocument -------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A ZIP archive of these entries, in this order, stored uncompressed. */
export function zip(entries: [name: string, content: string | Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of entries) {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES = '<?xml version="1.0" encoding="UTF-8"?><Types/>';

/** Office Open XML: [Content_Types].xml, the package rels and the main part. */
const ooxml = (main: string, extra: [string, string | Buffer][] = []): Buffer =>
  zip([
    ['[Content_Types].xml', CONTENT_TYPES],
    ['_rels/.rels', '<?xml version="1.0"?><Relationships/>'],
    [main, '<?xml version="1.0"?><root/>'],
    ...extra,
  ]);

export const DOCX = ooxml('word/document.xml');
export const XLSX = ooxml('xl/workbook.xml');
export const PPTX = ooxml('ppt/presentation.xml');
/** A Word document with macros (.docm): refused. */
export const DOCM = ooxml('word/document.xml', [['word/vbaProject.bin', randomBytes(64)]]);

/** OpenDocument: a first, stored entry `mimetype` holding the type. */
export const openDocument = (kind: 'text' | 'spreadsheet' | 'presentation', extra: [string, string][] = []): Buffer =>
  zip([
    ['mimetype', `application/vnd.oasis.opendocument.${kind}`],
    ['META-INF/manifest.xml', '<?xml version="1.0"?><manifest/>'],
    ['content.xml', '<?xml version="1.0"?><document/>'],
    ...extra,
  ]);
/** OpenDocument files with macros (StarBasic in Basic/, scripts in Scripts/): refused. */
export const ODT_WITH_BASIC = openDocument('text', [['Basic/Standard/Module1.xml', '<script:module/>']]);
export const ODS_WITH_SCRIPTS = openDocument('spreadsheet', [['Scripts/python/macro.py', 'import uno']]);

/** A plain ZIP archive (not an office document): refused. */
export const PLAIN_ZIP = zip([
  ['readme.txt', 'hello'],
  ['data.bin', randomBytes(32)],
]);

/** Bytes that are no known type and not text. */
export const randomBinary = (length = 256): Buffer => {
  const bytes = randomBytes(length);
  bytes[0] = 0x00; // never a magic number, and not text
  bytes[1] = 0x01;
  return bytes;
};

// --- multipart/form-data, byte by byte --------------------------------------------------------

export interface Part {
  name: string;
  /** Raw, as it goes into the quoted-string (UTF-8 bytes); undefined for a text field. */
  filename?: string;
  /** An RFC 5987 `filename*` value, e.g. `UTF-8''a%01b.txt`, sent after `filename`. */
  filenameStar?: string;
  contentType?: string;
  body: Buffer | string;
}

export const BOUNDARY = '----tasklane-test-boundary-7MA4YWxkTrZu0gW';

/** A multipart/form-data body of these parts with BOUNDARY. */
export function multipartBody(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let disposition = `form-data; name="${part.name}"`;
    if (part.filename !== undefined) disposition += `; filename="${part.filename}"`;
    if (part.filenameStar !== undefined) disposition += `; filename*=${part.filenameStar}`;
    let head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n`;
    if (part.contentType !== undefined) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, 'utf8'), Buffer.from(part.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** One part `file` with this name and claimed type. */
export const filePart = (bytes: Buffer, filename = 'file.bin', contentType = 'application/octet-stream'): Part => ({
  name: 'file',
  filename,
  contentType,
  body: bytes,
});

export const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

type Method = 'post' | 'put';

/** Sends a ready-made body with this Content-Type (multipart or not), as a user (or anonymously). */
export function sendRaw(
  t: TestApp,
  method: Method,
  url: string,
  body: Buffer,
  contentType: string | undefined,
  user?: SignedInUser,
  headers: Record<string, string> = {},
) {
  let req = t.http()[method](url);
  if (user) req = req.set(bearer(user.accessToken));
  if (contentType !== undefined) req = req.set('Content-Type', contentType);
  return req.set(headers).send(body);
}

/** Uploads one file as a well-formed multipart body. */
export function sendFile(
  t: TestApp,
  method: Method,
  url: string,
  user: SignedInUser | undefined,
  bytes: Buffer,
  filename = 'file.bin',
  contentType = 'application/octet-stream',
  headers: Record<string, string> = {},
) {
  return sendRaw(t, method, url, multipartBody([filePart(bytes, filename, contentType)]), MULTIPART, user, headers);
}

/** supertest's parser for a binary body: the bytes as one Buffer. */
export function binary(response: unknown, callback: (error: Error | null, body: Buffer) => void): void {
  // At run time, superagent hands the parser the raw response stream.
  const res = response as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
  res.on('error', (error: Error) => callback(error, Buffer.alloc(0)));
}

// --- what is on disk --------------------------------------------------------------------------

/** Every file under `dir` (recursively), relative to it; [] when there is no such folder. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

export const storedFiles = (t: TestApp, kind: 'attachments' | 'avatars'): string[] =>
  filesUnder(join(t.uploadDir, kind)).map((path) => `${kind}/${path}`);

/**
 * The keys of the stored files of a kind: the files under UPLOAD_DIR/<kind> with the local
 * driver, the bucket's objects with the S3 driver (which keeps nothing on disk but the uploads
 * arriving in UPLOAD_DIR/incoming).
 */
export async function storedKeys(
  t: TestApp,
  kind: 'attachments' | 'avatars',
  s3: S3TestServer | undefined,
): Promise<string[]> {
  if (!s3) return storedFiles(t, kind);
  expect(storedFiles(t, kind)).toEqual([]);
  return (await s3.keys()).filter((key) => key.startsWith(`${kind}/`));
}

/** A stored file's bytes, read from the folder or straight from the bucket. */
export function storedBytes(t: TestApp, s3: S3TestServer | undefined, key: string): Promise<Buffer> {
  return s3 ? s3.bytes(key) : Promise.resolve(readFileSync(join(t.uploadDir, key)));
}

export const incomingFiles = (t: TestApp): string[] => filesUnder(join(t.uploadDir, 'incoming'));

/** Polls until `check` holds (or the time is up): returns whether it did. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A GET of file bytes (as `user`, or anonymously), its body kept as a Buffer. */
export function getBytes(t: TestApp, url: string, user?: SignedInUser, headers: Record<string, string> = {}) {
  let req = t.http().get(url);
  if (user) req = req.set(bearer(user.accessToken));
  return req.set(headers).buffer(true).parse(binary);
}

/** The error envelope of a response whose body was kept as bytes. */
export const errorOf = (res: Response): Response =>
  ({ ...res, body: JSON.parse((res.body as Buffer).toString('utf8')) }) as Response;
