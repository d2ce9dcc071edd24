// Runs the conformance vectors in ./vectors/*.json (format: PROTOCOL.md §14). Every file is checked
// against a zod schema first, so a malformed vector fails with the file, the vector and the field.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as z from 'zod';
import {
  ERROR_CODES,
  EVENT_NAMES,
  MODES,
  REQUEST_VERBS,
  decode,
  decodeDeviceLine,
  decodeRequest,
  encode,
  type DecodeErrorCode,
  type Message,
} from './index.js';

const DECODE_ERROR_CODES = ['BAD_CRC', 'BAD_FRAME', 'TOO_LONG', 'UNKNOWN_VERB', 'BAD_ARG'] as const;
/** The issue asks for at least 60; the files hold many more. */
const MIN_VECTORS = 60;

const args = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const seq = z.number().int().min(0).max(65535);
const messageShape = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('request'), seq, verb: z.string(), args }),
  z.strictObject({ type: z.literal('ok'), seq, verb: z.string(), args }),
  z.strictObject({ type: z.literal('err'), seq: seq.nullable(), args }),
  z.strictObject({ type: z.literal('event'), event: z.string(), args }),
]);
const line = z
  .string()
  .refine((s) => !s.includes('\n'), { error: 'a line never contains the newline that ends it' })
  .refine((s) => [...s].every((c) => c.charCodeAt(0) < 0x100), { error: 'vectors use code points below 0x100 only (one byte each)' });
const common = {
  name: z.string().min(1),
  direction: z.enum(['host-to-device', 'device-to-host']),
  line,
  note: z.string().min(1).optional(),
};
const validVector = z.strictObject({ ...common, valid: z.literal(true), message: messageShape, canonical: z.boolean().optional() });
const invalidVector = z.strictObject({
  ...common,
  valid: z.literal(false),
  error: z.enum(DECODE_ERROR_CODES),
  errorSeq: seq.nullable(),
  misdirected: z.literal(true).optional(),
});
const vectorFile = z.strictObject({
  description: z.string().min(1),
  vectors: z.array(z.discriminatedUnion('valid', [validVector, invalidVector])).min(1),
});
type VectorFile = z.output<typeof vectorFile>;
type Vector = VectorFile['vectors'][number];

/** Parse one vector file's text; throws an Error naming the file and every bad field. */
function parseVectorFile(file: string, text: string): VectorFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON: ${(e as Error).message}`);
  }
  const parsed = vectorFile.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: malformed vector file:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

const dir = new URL('./vectors/', import.meta.url);
const fileNames = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const raw = fileNames.map((file) => ({ file, text: readFileSync(new URL(file, dir), 'utf8') }));
/** Files that parse; a malformed one fails its own test below and is left out of the rest. */
const files = raw.flatMap(({ file, text }) => {
  try {
    return [{ file, data: parseVectorFile(file, text) }];
  } catch {
    return [];
  }
});
const all: (Vector & { file: string })[] = files.flatMap(({ file, data }) => data.vectors.map((v) => ({ ...v, file })));
const valid = all.filter((v) => v.valid);

describe('vector files', () => {
  it('exist', () => {
    expect(fileNames.length).toBeGreaterThanOrEqual(4);
  });

  it.each(raw)('$file is a well-formed vector file', ({ file, text }) => {
    expect(() => parseVectorFile(file, text)).not.toThrow();
  });

  it('the file schema rejects a malformed vector and names the file and the field', () => {
    const bad = JSON.stringify({
      description: 'x',
      vectors: [{ name: 'n', direction: 'host-to-device', line: '0 HB *3A4B', valid: false, error: 'BAD_CRCX', errorSeq: null }],
    });
    expect(() => parseVectorFile('bad.json', bad)).toThrow(/bad\.json: malformed vector file:[\s\S]*vectors\[0\]\.error/);
    expect(() => parseVectorFile('bad.json', '{')).toThrow(/bad\.json: not JSON/);
    const noMessage = JSON.stringify({ description: 'x', vectors: [{ name: 'n', direction: 'host-to-device', line: 'l', valid: true }] });
    expect(() => parseVectorFile('m.json', noMessage)).toThrow(/vectors\[0\]\.message/);
  });

  it('the decode error codes listed here are exactly the codec type', () => {
    expectTypeOf<(typeof DECODE_ERROR_CODES)[number]>().toEqualTypeOf<DecodeErrorCode>();
  });
});

describe('vector coverage', () => {
  it(`holds at least ${MIN_VECTORS} vectors with unique names`, () => {
    expect(all.length).toBeGreaterThanOrEqual(MIN_VECTORS);
    const names = all.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has a valid request and a valid OK reply for every verb', () => {
    const requests = new Set(valid.flatMap((v) => (v.message.type === 'request' ? [v.message.verb] : [])));
    const replies = new Set(valid.flatMap((v) => (v.message.type === 'ok' ? [v.message.verb] : [])));
    for (const verb of REQUEST_VERBS) {
      expect(requests, `request ${verb}`).toContain(verb);
      expect(replies, `OK ${verb}`).toContain(verb);
    }
  });

  it('has every event, every SET mode and every ERR code', () => {
    const events = new Set(valid.flatMap((v) => (v.message.type === 'event' ? [v.message.event] : [])));
    for (const e of EVENT_NAMES) expect(events, e).toContain(e);
    const modes = new Set(valid.flatMap((v) => (v.message.type === 'request' && v.message.verb === 'SET' ? [v.message.args['mode']] : [])));
    for (const m of MODES) expect(modes, m).toContain(m);
    const errCodes = new Set(valid.flatMap((v) => (v.message.type === 'err' ? [v.message.args['code']] : [])));
    for (const c of ERROR_CODES) expect(errCodes, c).toContain(c);
  });

  it('has every decode error code, in both directions, and the edge cases the spec names', () => {
    for (const code of DECODE_ERROR_CODES) {
      expect(all.some((v) => !v.valid && v.error === code && v.direction === 'host-to-device'), `${code} host-to-device`).toBe(true);
      expect(all.some((v) => !v.valid && v.error === code && v.direction === 'device-to-host'), `${code} device-to-host`).toBe(true);
    }
    expect(valid.some((v) => v.line.endsWith('\r')), 'CRLF').toBe(true);
    expect(valid.some((v) => v.line.length === 256), 'a valid line of exactly 256 bytes').toBe(true);
    expect(all.some((v) => !v.valid && v.error === 'TOO_LONG' && v.line.length === 257), 'a 257-byte line').toBe(true);
    expect(valid.some((v) => 'seq' in v.message && v.message.seq === 0), 'seq 0').toBe(true);
    expect(valid.some((v) => 'seq' in v.message && v.message.seq === 65535), 'seq 65535').toBe(true);
    expect(all.some((v) => [...v.line].some((c) => c.charCodeAt(0) > 0x7e)), 'non-ASCII').toBe(true);
    expect(all.some((v) => [...v.line].some((c) => c.charCodeAt(0) < 0x20 && c !== '\r')), 'control bytes').toBe(true);
    expect(all.some((v) => !v.valid && v.misdirected === true && v.direction === 'host-to-device'), 'misdirected at a device').toBe(true);
    expect(all.some((v) => !v.valid && v.misdirected === true && v.direction === 'device-to-host'), 'misdirected at a host').toBe(true);
    expect(valid.some((v) => v.canonical === false && !v.line.endsWith('\r')), 'a non-canonical argument order').toBe(true);
  });
});

function directional(v: Vector) {
  return v.direction === 'host-to-device' ? decodeRequest(v.line) : decodeDeviceLine(v.line);
}

describe.each(files)('vectors in $file', ({ data }) => {
  it.each(data.vectors.filter((v) => v.valid))('valid: $name', (v) => {
    const expected = v.message as Message;
    expect(decode(v.line)).toStrictEqual({ ok: true, message: expected });
    expect(directional(v)).toStrictEqual({ ok: true, message: expected });
    expect(expected.type === 'request', 'a valid message travels in its own direction').toBe(v.direction === 'host-to-device');
    const encoded = encode(expected);
    if (v.canonical === false) {
      // Marked non-canonical: it must really differ from the encoder's output, which decodes the same.
      expect(encoded).not.toBe(v.line);
      expect(decode(encoded)).toStrictEqual({ ok: true, message: expected });
    } else {
      expect(encoded).toBe(v.line);
    }
  });

  it.each(data.vectors.filter((v) => !v.valid))('invalid: $name', (v) => {
    const got = directional(v);
    expect(got.ok).toBe(false);
    if (got.ok) return;
    expect(got.error.code).toBe(v.error);
    expect(got.error.seq ?? null, 'the seq a device may echo').toBe(v.errorSeq);
    const any = decode(v.line);
    if (v.misdirected) {
      // A message of the other direction: a direction-agnostic decoder accepts it.
      expect(any.ok).toBe(true);
      if (any.ok) expect(any.message.type === 'request').toBe(v.direction === 'device-to-host');
    } else {
      expect(any).toStrictEqual(got);
    }
  });
});
