import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../../src/domain/hash/canonical-json.js';
import { sha256, sha256Hex, toHex } from '../../../src/domain/hash/sha256.js';
import { parseProtocolText } from '../../../src/domain/protocols/validate.js';
import { GENESIS_PREV, readJournal } from '../../../src/session/journal.js';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures');

const nodeSha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

describe('sha256 (@noble/hashes)', () => {
  it('matches the FIPS 180-4 test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // 448 bits: the padding spills into a second block
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    // 896 bits
    expect(
      sha256Hex('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    ).toBe('cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1');
  });

  it('hashes one million "a" (many blocks)', () => {
    expect(sha256Hex('a'.repeat(1_000_000))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('agrees with node:crypto at every padding boundary', () => {
    for (let n = 0; n <= 130; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(toHex(sha256(bytes)), `length ${n}`).toBe(nodeSha256(bytes));
    }
  });

  it('hashes the UTF-8 encoding of text', () => {
    expect(sha256Hex('µs 2 Hz é ✓ 😀')).toBe(nodeSha256(Buffer.from('µs 2 Hz é ✓ 😀', 'utf8')));
  });

  it('hashes bytes and text alike (the journal hashes raw line bytes, protocols hash text)', () => {
    const text = '{"n":0,"type":"session-start","µs":250}';
    expect(sha256Hex(Buffer.from(text, 'utf8'))).toBe(sha256Hex(text));
    expect(sha256Hex(new Uint8Array(Buffer.from(text, 'utf8')).subarray(1))).toBe(nodeSha256(Buffer.from(text, 'utf8').subarray(1)));
  });

  it('encodes a lone surrogate as U+FFFD, as node:crypto did for the journal', () => {
    const lone = 'a\uD800b';
    expect(sha256Hex(lone)).toBe(nodeSha256(lone));
    expect(sha256Hex(lone)).toBe(sha256Hex('a\uFFFDb'));
  });

  it('agrees with node:crypto on random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(toHex(sha256(bytes))).toBe(nodeSha256(bytes));
      }),
      { numRuns: 300 },
    );
  });
});

// Hashes already stored in journals must never change: these were computed before the switch to
// @noble/hashes (by the hand-written SHA-256 and node:crypto) and must still come out the same.
describe('stored hashes (a format commitment)', () => {
  it.each([
    ['valid/base.json', 'efc4bc6fbb852306f5daf040e508c1b95581a66913096947d12075d0404988db'],
    ['valid/two-phases.json', '7327fc20bc480d5114e191257d4d0aed02b68ab653737b578d03a7059582f880'],
    ['valid/with-schema.json', '455dd2e8a18cf5865bcfa9a79f67aa4885dee346fc45aa3adb3ba758d29d63c2'],
  ])('the content hash of %s is unchanged', (file, hash) => {
    const result = parseProtocolText(readFileSync(path.join(FIXTURES, 'protocols', file), 'utf8'), file);
    expect(result.ok && result.hash).toBe(hash);
  });

  it('the journal fixture written by the old hashing still verifies, line by line', () => {
    const text = readFileSync(path.join(FIXTURES, 'journals/small-session.jsonl'), 'utf8');
    const read = readJournal({ text });
    expect(read.problems).toEqual([]);
    const lines = text.split('\n').filter((l) => l !== '');
    expect(read.records).toHaveLength(lines.length);
    expect(read.records.map((r) => r.prev)).toEqual([GENESIS_PREV, ...lines.slice(0, -1).map((l) => nodeSha256(l))]);
  });
});

describe('canonical JSON', () => {
  it('sorts keys at every level and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('writes numbers in their shortest form, so 2.0 and 2 are the same', () => {
    expect(canonicalJson(JSON.parse('{"f": 2.0, "g": 1e2, "h": 0.30}'))).toBe('{"f":2,"g":100,"h":0.3}');
  });

  it('escapes strings as JSON does and leaves out undefined properties', () => {
    expect(canonicalJson({ s: 'a"b\n', u: undefined })).toBe('{"s":"a\\"b\\n"}');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ x: NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ x: Infinity })).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
  });

  it('is the same for any key order, and round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(canonicalJson(reverseKeys(value))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('gives a content hash that ignores formatting and follows every value', () => {
    const a = { id: 'x', amplitude: { maxMa: 10, rampMaPerS: 0.5 } };
    const b = JSON.parse('{ "amplitude": { "rampMaPerS": 0.5, "maxMa": 10.0 },\n "id": "x" }') as unknown;
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash({ ...a, amplitude: { maxMa: 10.001, rampMaPerS: 0.5 } })).not.toBe(contentHash(a));
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}
