const RESERVED_ON_WINDOWS = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;
const MAX_LENGTH = 200;

/**
 * A filename safe to store and to hand back: the last segment of whatever path the client
 * sent, without control or bidirectional-override characters (which disguise extensions),
 * without characters that file systems reject, without leading dots or trailing dots and
 * spaces, and at most 200 characters with its extension kept. Percent signs are kept as they
 * are: the name is never decoded nor used as a path. Nothing left → `fallback`.
 */
export function sanitizeFilename(raw: string | undefined, fallback: string): string {
  let name = (raw ?? '').normalize('NFC');
  name = name.split(/[\\/]/).pop() ?? '';
  name = name
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ');
  name = trimDotsAndSpaces(name);
  if (RESERVED_ON_WINDOWS.test(name)) name = `_${name}`;
  const chars = [...name];
  if (chars.length > MAX_LENGTH) {
    const dot = name.lastIndexOf('.');
    const extension = dot > 0 && name.length - dot <= 16 ? [...name.slice(dot)] : [];
    name = chars.slice(0, MAX_LENGTH - extension.length).join('') + extension.join('');
  }
  return name || fallback;
}

/**
 * Without leading dots and spaces and without trailing ones. By hand: the regular expression
 * `/^[\s.]+|[\s.]+$/` backtracks quadratically on a long run of dots and spaces that does not
 * reach the end (a 16 KB filename of ". . ." blocked the event loop for over a second).
 */
function trimDotsAndSpaces(name: string): string {
  const skip = (c: string) => c === '.' || c === ' ';
  let start = 0;
  let end = name.length;
  while (start < end && skip(name[start])) start++;
  while (end > start && skip(name[end - 1])) end--;
  return name.slice(start, end);
}

/**
 * `Content-Disposition` for a filename (RFC 6266): an ASCII `filename` fallback for old
 * clients and the exact name as UTF-8 in `filename*` (RFC 8187).
 */
export function contentDisposition(type: 'attachment' | 'inline', filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
