/**
 * The JSON Canonicalization Scheme (JCS, RFC 8785): the same JSON value always serializes to the
 * same text, whatever the key order or whitespace of the file it came from. Protocol content
 * hashes are SHA-256 of this text and are stored in every session journal, so this is a format
 * commitment: it must stay RFC 8785 byte for byte (the RFC's own examples and its Appendix B
 * number samples are in test/unit/domain/hash.test.ts).
 *
 * What RFC 8785 asks, and how it is met here:
 * - no whitespace; object members sorted by their names as arrays of UTF-16 code units (JavaScript's
 *   `<` on strings compares exactly that);
 * - strings as ECMAScript's JSON.stringify writes them (only `"`, `\` and control characters are
 *   escaped, with the short forms \b \t \n \f \r and lower-case \u00xx otherwise);
 * - numbers as ECMAScript's Number-to-String writes them (JSON.stringify again: the shortest text
 *   that reads back as the same double, so 2.0 and 2 are the same, -0 is 0, 1e21 is 1e+21);
 * - input outside I-JSON (RFC 7493) is an error, never a guess: NaN and Infinity, and a string or
 *   a member name holding an unpaired UTF-16 surrogate (JSON.stringify would write it as \udxxx;
 *   RFC 8785 3.2.2.2 says such data MUST stop a compliant implementation). A duplicate member name
 *   cannot reach this function: a JavaScript object has none, and the protocol reader refuses one.
 * Beyond the RFC, for JavaScript callers: a property whose value is undefined is left out, as
 * JSON.stringify does; any other non-JSON value (a function, a symbol, a bigint, undefined in an
 * array) is an error.
 */
import { sha256Hex } from './sha256.js';

/** A value JCS cannot serialize, with where it is (property names and array indices from the root). */
export class JcsError extends TypeError {
  constructor(
    message: string,
    readonly path: readonly (string | number)[],
  ) {
    super(message);
    this.name = 'JcsError';
  }
}

/** The RFC 8785 canonical text of a JSON value. Throws JcsError for a value outside I-JSON. */
export function jcs(value: unknown): string {
  return serialize(value, []);
}

/** SHA-256 (hex) of the JCS text of a value: a content hash independent of formatting. */
export function contentHash(value: unknown): string {
  return sha256Hex(jcs(value));
}

/**
 * Where a value holds a string JCS refuses (an unpaired surrogate), so a validator can name the
 * field instead of failing while it hashes; undefined when there is none.
 */
export function findUnpairedSurrogate(value: unknown, path: (string | number)[] = []): readonly (string | number)[] | undefined {
  if (typeof value === 'string') return hasUnpairedSurrogate(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findUnpairedSurrogate(item, [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (hasUnpairedSurrogate(k)) return [...path, k];
      const found = findUnpairedSurrogate(v, [...path, k]);
      if (found) return found;
    }
  }
  return undefined;
}

function serialize(value: unknown, path: (string | number)[]): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') return string(value, path);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new JcsError(`JCS: ${value} is not a JSON number${at(path)}`, path);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item: unknown, i) => serialize(item, [...path, i])).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${string(k, [...path, k])}:${serialize(v, [...path, k])}`).join(',')}}`;
  }
  throw new JcsError(`JCS: a ${typeof value} is not a JSON value${at(path)}`, path);
}

function string(s: string, path: (string | number)[]): string {
  if (hasUnpairedSurrogate(s)) throw new JcsError(`JCS: a string with an unpaired UTF-16 surrogate is not I-JSON${at(path)}`, path);
  return JSON.stringify(s);
}

/** Whether a string has a high surrogate not followed by a low one, or a low one not preceded by a high one. */
function hasUnpairedSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** " (at phases[0].name)", in the notation of the protocol error messages. */
function at(path: readonly (string | number)[]): string {
  if (path.length === 0) return '';
  const shown = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `${i === 0 ? '' : '.'}${p}` : `[${JSON.stringify(p)}]`)).join('');
  return ` (at ${shown})`;
}
