const SCHEME = 'bearer ';

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined. The
 * scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are the
 * same scheme.
 */
export function bearerTokenOf(header: string | undefined): string | undefined {
  if (typeof header !== 'string' || header.length <= SCHEME.length) return undefined;
  if (header.slice(0, SCHEME.length).toLowerCase() !== SCHEME) return undefined;
  const token = header.slice(SCHEME.length).trim();
  return token.length > 0 ? token : undefined;
}
