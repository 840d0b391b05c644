/**
 * What the OpenAPI document says a string looks like where no standard `format` (uuid, email,
 * date-time, uri…) fits: every string in the document has a format, an enum or one of these
 * patterns (the OWASP ruleset's string-restricted rule), and each pattern states what the
 * server really accepts or sends. They document; validation stays with the DTOs.
 * (string-formats.spec.ts checks each one against values the server makes and takes.)
 */
export const STRING_PATTERNS = {
  /**
   * Free text (names, titles, descriptions, comments, messages): any characters but NUL. The
   * server refuses NUL and lone UTF-16 surrogates in every string (a pattern cannot say the
   * latter portably); the length is the schema's maxLength.
   */
  text: '^[^\\u0000]*$',
  /**
   * Free text that must not be blank: at least one character that is not whitespace (JavaScript's
   * `\s`, exactly what `trim()` removes), as names, titles and labels (trimmed, then refused
   * empty) and comment bodies (kept as written, refused blank) are validated. Linear to match:
   * the leading `\s*` can only end at the first non-space character.
   */
  nonBlankText: '^\\s*[^\\s\\u0000][^\\u0000]*$',
  /** A list cursor: base64url payload, a dot, its base64url signature (`meta.page.nextCursor`). */
  cursor: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
  /** A request id, the client's own (1–128 of `A-Za-z0-9._-`) or a UUID made by the server. */
  requestId: '^[A-Za-z0-9._-]{1,128}$',
  /** A JWT in compact serialization: three base64url parts. */
  jwt: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$',
  /** An opaque bearer secret (refresh, invitation and password-reset tokens): base64url. */
  opaqueToken: '^[A-Za-z0-9_-]+$',
  /** One entity tag (RFC 9110 §8.8.3), as in ETag and If-Range. */
  entityTag: '^(W/)?"[\\x21\\x23-\\x7E]*"$',
  /** If-Match / If-None-Match: `*` or a comma-separated list of entity tags. */
  entityTags: '^(\\*|(W/)?"[\\x21\\x23-\\x7E]*"(\\s*,\\s*(W/)?"[\\x21\\x23-\\x7E]*")*)$',
  /**
   * A Range header of byte ranges (RFC 9110 §14.2; the unit is case-insensitive, as the server
   * reads it). Any other value is not refused: it is ignored and the whole file sent.
   */
  byteRanges: '^[Bb][Yy][Tt][Ee][Ss]=(\\d+-\\d*|-\\d+)(\\s*,\\s*(\\d+-\\d*|-\\d+))*$',
  /** Content-Range of a 206 (`bytes 0-1023/4096`), or of a 416 (`bytes *\/4096`). */
  contentRange: '^bytes (\\d+-\\d+|\\*)/\\d+$',
  /**
   * Content-Disposition of a download (common/uploads/filename.ts): `attachment` or `inline`, an
   * ASCII `filename` fallback (printable ASCII, `"`, `\` and `%` replaced by `_`) and the exact
   * name in `filename*` (RFC 8187: UTF-8, percent-encoded, upper-case hex).
   */
  contentDisposition:
    '^(attachment|inline); filename="[\\x20\\x21\\x23\\x24\\x26-\\x5B\\x5D-\\x7E]+"; filename\\*=UTF-8\'\'([A-Za-z0-9!._~-]|%[0-9A-F]{2})+$',
  /** An IPv4 or IPv6 address, as the server saw it. */
  ipAddress: '^[0-9A-Fa-f:.]+$',
} as const;
