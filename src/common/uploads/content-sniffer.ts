import { FileHandle, open } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

/** What an upload is, judged from its bytes alone. */
export interface SniffedFile {
  path: string;
  size: number;
  /** The first bytes of the file (at least HEAD_BYTES when the file is that long). */
  head: Buffer;
  /** Valid UTF-8 without control characters other than tab, line breaks, form feed and escape. */
  textual: boolean;
}

export const HEAD_BYTES = 4096;

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
const ODF = ['text', 'spreadsheet', 'presentation'].map((kind) => `application/vnd.oasis.opendocument.${kind}`);

/**
 * What attachments may be: images, PDF, plain text and office documents (Office Open XML and
 * OpenDocument). Not HTML, SVG, XML, scripts, executables, archives, or Office files with
 * macros (legacy .doc/.xls/.ppt included, which carry them freely).
 */
export const ATTACHMENT_TYPES: readonly string[] = [
  ...IMAGE_TYPES,
  'image/gif',
  'application/pdf',
  'text/plain',
  DOCX,
  XLSX,
  PPTX,
  ...ODF,
];

/** The usual extension of each accepted type, for a file that arrives without a usable name. */
export const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  [DOCX]: 'docx',
  [XLSX]: 'xlsx',
  [PPTX]: 'pptx',
  [ODF[0]]: 'odt',
  [ODF[1]]: 'ods',
  [ODF[2]]: 'odp',
};

export type Sniffed = { contentType: string } | { refused: string };

const startsWith = (head: Buffer, bytes: number[] | string, offset = 0): boolean => {
  const expected = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  return head.length >= offset + expected.length && head.subarray(offset, offset + expected.length).equals(expected);
};

/** The start of a document that a browser would sniff as HTML (WHATWG MIME Sniffing §7.1), or XML/SVG. */
const MARKUP =
  /^(<!doctype html|<html|<head|<script|<iframe|<h1|<div|<font|<table|<a|<style|<title|<b|<body|<br|<p|<!--)[\s>]|^<\?xml|^<svg[\s>/]/i;

/**
 * The content type of an upload, from its magic numbers; `refused` names what it looks like
 * when that is something we never accept, and `undefined` means "not recognised".
 */
export async function sniffContentType(file: SniffedFile): Promise<Sniffed | undefined> {
  const { head } = file;
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { contentType: 'image/png' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { contentType: 'image/jpeg' };
  if (startsWith(head, 'GIF87a') || startsWith(head, 'GIF89a')) return { contentType: 'image/gif' };
  if (startsWith(head, 'RIFF') && startsWith(head, 'WEBP', 8)) return { contentType: 'image/webp' };
  if (startsWith(head, '%PDF-')) return { contentType: 'application/pdf' };
  if (startsWith(head, 'PK\x03\x04')) return sniffZip(file);
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    return { refused: 'a legacy Office document (these may carry macros)' };
  }
  // A real PE file is full of NULs; text that merely starts with "MZ" is still text.
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46]) || (startsWith(head, 'MZ') && !file.textual) || isMachO(head)) {
    return { refused: 'an executable' };
  }
  if (file.textual) {
    const text = head
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart();
    if (text.startsWith('#!')) return { refused: 'a script' };
    if (MARKUP.test(text)) return { refused: 'HTML, XML or SVG' };
    return { contentType: 'text/plain' };
  }
  return undefined;
}

function isMachO(head: Buffer): boolean {
  if (head.length < 4) return false;
  const magic = head.readUInt32BE(0);
  return [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic);
}

/**
 * Where macros live in a ZIP-based office document: OpenDocument keeps StarBasic in `Basic/`
 * (with its dialogs in `Dialogs/`) and other script languages in `Scripts/`; Office Open XML keeps
 * VBA in a part its [Content_Types].xml declares (`application/vnd.ms-office.vbaProject`, in
 * `.docm`/`.xlsm`/`.pptm`, whose main part is then also `…macroEnabled…`), named
 * `vbaProject.bin` by Office. Either sign is enough to refuse.
 */
const ODF_MACROS = /^(Basic|Dialogs|Scripts)\//i;
const OOXML_MACRO_PART = /(^|\/)vbaProject\.bin$/i;
const OOXML_MACRO_TYPES = /vbaProject|vbaData|macroEnabled/i;

/** ZIP: an OpenDocument (its first entry names it) or an Office Open XML file, either without macros. */
async function sniffZip(file: SniffedFile): Promise<Sniffed | undefined> {
  const { head } = file;
  const zip = await listZip(file);
  if (!zip) return undefined;
  const names = [...zip.names];
  // OpenDocument: a first, uncompressed entry called "mimetype" holding the type.
  if (startsWith(head, 'mimetype', 30) && head.readUInt16LE(8) === 0) {
    const start = 30 + 8 + head.readUInt16LE(28);
    const declared = head.subarray(start, start + head.readUInt32LE(18)).toString('latin1');
    if (!ODF.includes(declared)) return undefined;
    if (names.some((name) => ODF_MACROS.test(name))) return { refused: 'an OpenDocument file with macros' };
    return { contentType: declared };
  }
  if (zip.contentTypes === undefined) return undefined;
  if (names.some((name) => OOXML_MACRO_PART.test(name)) || OOXML_MACRO_TYPES.test(zip.contentTypes)) {
    return { refused: 'an Office document with macros' };
  }
  if (zip.names.has('word/document.xml')) return { contentType: DOCX };
  if (zip.names.has('xl/workbook.xml')) return { contentType: XLSX };
  if (zip.names.has('ppt/presentation.xml')) return { contentType: PPTX };
  return undefined;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_ENTRY_SIGNATURE = 0x02014b50;
const LOCAL_ENTRY_SIGNATURE = 0x04034b50;
/**
 * Office documents' directories are tens of KB (about 100 bytes an entry); reading and walking a
 * larger one in one go would hold the event loop for tens of ms, so it is not recognised.
 */
const MAX_CENTRAL_DIRECTORY = 1024 * 1024;
/** Office documents hold hundreds of entries; reading more than this is not worth the time. */
const MAX_ZIP_ENTRIES = 10_000;

interface ZipListing {
  names: Set<string>;
  /** The text of `[Content_Types].xml`, when there is one (and it is small). */
  contentTypes?: string;
}

/** `[Content_Types].xml` of an OOXML package is a few KB; a larger one is not read. */
const MAX_CONTENT_TYPES_BYTES = 256 * 1024;

/**
 * The entry names in a ZIP's central directory, and the text of `[Content_Types].xml`; undefined
 * if the directory cannot be read or holds more than MAX_ZIP_ENTRIES entries.
 */
async function listZip(file: SniffedFile): Promise<ZipListing | undefined> {
  const handle = await open(file.path, 'r');
  try {
    const tailLength = Math.min(file.size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, file.size - tailLength);
    let eocd = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) return undefined;
    const size = tail.readUInt32LE(eocd + 12);
    const offset = tail.readUInt32LE(eocd + 16);
    if (size > MAX_CENTRAL_DIRECTORY || offset + size > file.size) return undefined;
    const directory = Buffer.alloc(size);
    await handle.read(directory, 0, size, offset);
    const names = new Set<string>();
    let contentTypes: { method: number; compressed: number; local: number } | undefined;
    for (let at = 0; at + 46 <= size && directory.readUInt32LE(at) === CENTRAL_ENTRY_SIGNATURE;) {
      if (names.size >= MAX_ZIP_ENTRIES) return undefined;
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const name = directory.subarray(at + 46, at + 46 + nameLength).toString('utf8');
      names.add(name);
      if (name === '[Content_Types].xml') {
        const method = directory.readUInt16LE(at + 10);
        const compressed = directory.readUInt32LE(at + 20);
        contentTypes = { method, compressed, local: directory.readUInt32LE(at + 42) };
      }
      at += 46 + nameLength + extraLength + commentLength;
    }
    return { names, contentTypes: contentTypes && (await readEntry(handle, file.size, contentTypes)) };
  } finally {
    await handle.close();
  }
}

/** A stored or deflated entry's text, at most MAX_CONTENT_TYPES_BYTES of it; undefined if unreadable. */
async function readEntry(
  handle: FileHandle,
  fileSize: number,
  entry: { method: number; compressed: number; local: number },
): Promise<string | undefined> {
  if (entry.compressed > MAX_CONTENT_TYPES_BYTES || (entry.method !== 0 && entry.method !== 8)) return undefined;
  const header = Buffer.alloc(30);
  await handle.read(header, 0, 30, entry.local);
  if (header.readUInt32LE(0) !== LOCAL_ENTRY_SIGNATURE) return undefined;
  const start = entry.local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.compressed > fileSize) return undefined;
  const data = Buffer.alloc(entry.compressed);
  await handle.read(data, 0, entry.compressed, start);
  try {
    const bytes = entry.method === 0 ? data : inflateRawSync(data, { maxOutputLength: MAX_CONTENT_TYPES_BYTES });
    return bytes.toString('utf8');
  } catch {
    return undefined;
  }
}
