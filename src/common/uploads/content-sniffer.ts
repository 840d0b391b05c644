import { open } from 'node:fs/promises';

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

/** ZIP: an OpenDocument (its first entry names it) or an Office Open XML file without macros. */
async function sniffZip(file: SniffedFile): Promise<Sniffed | undefined> {
  const { head } = file;
  // OpenDocument: a first, uncompressed entry called "mimetype" holding the type.
  if (startsWith(head, 'mimetype', 30) && head.readUInt16LE(8) === 0) {
    const start = 30 + 8 + head.readUInt16LE(28);
    const declared = head.subarray(start, start + head.readUInt32LE(18)).toString('latin1');
    return ODF.includes(declared) ? { contentType: declared } : undefined;
  }
  const names = await zipEntryNames(file);
  if (!names?.has('[Content_Types].xml')) return undefined;
  if ([...names].some((name) => /(^|\/)vbaProject\.bin$/i.test(name))) {
    return { refused: 'an Office document with macros' };
  }
  if (names.has('word/document.xml')) return { contentType: DOCX };
  if (names.has('xl/workbook.xml')) return { contentType: XLSX };
  if (names.has('ppt/presentation.xml')) return { contentType: PPTX };
  return undefined;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_ENTRY_SIGNATURE = 0x02014b50;
const MAX_CENTRAL_DIRECTORY = 4 * 1024 * 1024;

/** The entry names in a ZIP's central directory, or undefined if it cannot be read. */
async function zipEntryNames(file: SniffedFile): Promise<Set<string> | undefined> {
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
    for (let at = 0; at + 46 <= size && directory.readUInt32LE(at) === CENTRAL_ENTRY_SIGNATURE;) {
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      names.add(directory.subarray(at + 46, at + 46 + nameLength).toString('utf8'));
      at += 46 + nameLength + extraLength + commentLength;
    }
    return names;
  } finally {
    await handle.close();
  }
}
