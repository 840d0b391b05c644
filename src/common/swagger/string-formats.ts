/**
 * What the OpenAPI document says a string looks like where no standard `format` (uuid, email,
 * date-time, uri…) fits: every string in the document has a format, an enum or one of these
 * patterns (the OWASP ruleset's string-restricted rule), and each pattern states what the
 * server really accepts or sends. They document; validation stays with the DTOs.
 */
export const STRING_PATTERNS = {
  /**
   * Free text (names, titles, descriptions, comments, messages): any characters but NUL. The
   * server refuses NUL and lone UTF-16 surrogates in every string (a pattern cannot say the
   * latter portably); the length is the schema's maxLength.
   */
  text: '^[^\\u0000]*$',
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
  /** A Range header of byte ranges. */
  byteRanges: '^bytes=(\\d+-\\d*|-\\d+)(\\s*,\\s*(\\d+-\\d*|-\\d+))*$',
  /** An IPv4 or IPv6 address, as the server saw it. */
  ipAddress: '^[0-9A-Fa-f:.]+$',
} as const;
