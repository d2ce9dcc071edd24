/**
 * Canonical JSON: the same value always serializes to the same text, whatever the key order or
 * whitespace of the file it came from. Object keys are sorted by UTF-16 code units, there is no
 * whitespace, strings and numbers are written as JSON.stringify writes them (shortest round-trip
 * form for numbers, so 2.0 and 2 are the same), and properties whose value is undefined are left
 * out as JSON.stringify does. Non-finite numbers and non-JSON values are errors, not guesses.
 */
import { sha256Hex } from './sha256.js';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item: unknown) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} is not a JSON value`);
}

/** SHA-256 (hex) of the canonical JSON of a value: a content hash independent of formatting. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
