// The conformance vectors (firmware-protocol/vectors/*.json, PROTOCOL.md §14.4) against the C
// firmware's receiver, decoder and encoder, through the small driver tests/vectors_driver.c: every
// host-to-device vector decodes to the same request or the same error and trusted seq; every
// device-to-host vector is accepted or refused by the C host-side decoder as it says; every
// canonical device-to-host message is encoded by the C encoder to exactly the vector's line.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, built } from './support.js';

interface Vector {
  readonly name: string;
  readonly direction: 'host-to-device' | 'device-to-host';
  readonly line: string;
  readonly valid: boolean;
  readonly canonical?: boolean;
  readonly message?: { readonly type: string; readonly seq?: number | null; readonly verb?: string; readonly event?: string; readonly args: Record<string, unknown> };
  readonly error?: string;
  readonly errorSeq?: number | null;
}

const dir = new URL('../../firmware-protocol/vectors/', import.meta.url);
const vectors: (Vector & { file: string })[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((file) => (JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { vectors: Vector[] }).vectors.map((v) => ({ ...v, file })));

const hex = (line: string): string => Buffer.from(`${line}\n`, 'latin1').toString('hex');

function encodeSpec(m: NonNullable<Vector['message']>): string {
  const name = m.type === 'event' ? m.event! : m.type === 'ok' ? m.verb! : 'ERR';
  const fields = Object.entries(m.args).flatMap(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]);
  return ['encode', [m.type, m.seq === null || m.seq === undefined ? '!' : String(m.seq), name, ...fields].join('\t')].join(' ');
}

let answers: Map<string, unknown>;
let selftest: unknown;

beforeAll(async () => {
  const [, , driver] = await built('tools');
  const commands: { key: string; line: string }[] = [];
  for (const v of vectors) {
    if (v.direction === 'host-to-device') commands.push({ key: `device:${v.name}`, line: `device ${hex(v.line)}` });
    else {
      commands.push({ key: `host:${v.name}`, line: `host ${hex(v.line)}` });
      if (v.valid && v.canonical !== false && v.message) commands.push({ key: `encode:${v.name}`, line: encodeSpec(v.message) });
    }
  }
  const run = spawnSync(driver!, { input: [...commands.map((c) => c.line), 'selftest'].join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(run.status, run.stderr).toBe(0);
  const out = run.stdout.trimEnd().split('\n');
  selftest = JSON.parse(out.pop()!);
  expect(out).toHaveLength(commands.length);
  answers = new Map(commands.map((c, i) => [c.key, JSON.parse(out[i]!) as unknown]));
}, BUILD_TIMEOUT_MS);

describe('the conformance vectors against the C firmware', () => {
  it("the CRC: the spec's known values, the table against the spec's bitwise loop, the worked example's read-back CRC", () => {
    expect(selftest).toEqual({ ok: true });
  });

  it('covers every vector of every file', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(200);
    expect(new Set(vectors.map((v) => v.file)).size).toBeGreaterThanOrEqual(5);
  });

  it.each(vectors.filter((v) => v.direction === 'host-to-device'))('device decodes: $name', (v) => {
    const got = answers.get(`device:${v.name}`);
    if (v.valid) expect(got).toStrictEqual({ ok: true, message: v.message });
    else expect(got).toStrictEqual({ ok: false, error: v.error, errorSeq: v.errorSeq });
  });

  it.each(vectors.filter((v) => v.direction === 'device-to-host'))('host-side decoder: $name', (v) => {
    const got = answers.get(`host:${v.name}`);
    if (v.valid) expect(got).toStrictEqual({ ok: true, type: v.message!.type });
    else expect(got).toStrictEqual({ ok: false, error: v.error, errorSeq: v.errorSeq });
  });

  it.each(vectors.filter((v) => v.direction === 'device-to-host' && v.valid && v.canonical !== false))('device encodes: $name', (v) => {
    expect(answers.get(`encode:${v.name}`)).toStrictEqual({ line: v.line });
  });
});
