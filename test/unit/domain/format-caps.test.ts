/**
 * Issue 9 item 9 (interim): a protocol file is capped in size and in phases, so no single request
 * can cost a validation much work. Each cap is named by its FORMAT_LIMITS key, and each test checks
 * the boundary: the cap itself passes, one more is refused with a message naming the cap.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProtocolStore } from '../../../src/app/store.js';
import { parseProtocolText, validateProtocol } from '../../../src/domain/protocols/validate.js';
import { FORMAT_LIMITS } from '../../../src/domain/safety/limits.js';

const LIBRARY = path.resolve(import.meta.dirname, '../../../src/domain/protocols/library');
const knee = JSON.parse(readFileSync(path.join(LIBRARY, 'knee-oa-periosteal.json'), 'utf8')) as { phases: Record<string, unknown>[] } & Record<string, unknown>;

/** The knee protocol with `n` copies of its first phase, 0.05 min (3 s) each (legal in every other way). */
function withPhases(n: number): Record<string, unknown> {
  const phase = knee.phases[0]!;
  return { ...knee, id: 'cap-test', name: 'Cap test', phases: Array.from({ length: n }, (_, i) => ({ ...phase, name: `phase ${i + 1}`, durationMin: 0.05 })) };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('H28 FORMAT_LIMITS.maxPhases', () => {
  it('is 60', () => expect(FORMAT_LIMITS.maxPhases).toBe(60));

  it('accepts a file with exactly maxPhases phases', () => {
    const r = validateProtocol(withPhases(FORMAT_LIMITS.maxPhases));
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('refuses one phase more, naming the cap, at path "phases", and only that', () => {
    const r = validateProtocol(withPhases(FORMAT_LIMITS.maxPhases + 1));
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors).toEqual([{ path: 'phases', message: `${FORMAT_LIMITS.maxPhases + 1} phases is above the 60-phase maximum of a protocol file` }]);
  });

  it('refuses a 1200-phase file before parsing its phases (the cost the cap bounds)', () => {
    const file = withPhases(1200);
    const t0 = performance.now();
    const r = validateProtocol(file);
    const spent = performance.now() - t0;
    expect(r.ok ? [] : r.errors.map((e) => e.path)).toEqual(['phases']);
    // One array length is read; parsing 1200 phases took about 40 ms here. Generous for a loaded machine.
    expect(spent).toBeLessThan(20);
  });
});

describe('H28 FORMAT_LIMITS.maxFileBytes', () => {
  it('is 256 KiB', () => expect(FORMAT_LIMITS.maxFileBytes).toBe(262_144));

  /** The valid knee file padded with spaces (JSON whitespace) to exactly `bytes` UTF-8 bytes. */
  function padded(bytes: number): string {
    const text = JSON.stringify(knee);
    return text + ' '.repeat(bytes - Buffer.byteLength(text));
  }

  it('accepts a file of exactly maxFileBytes bytes', () => {
    const r = parseProtocolText(padded(FORMAT_LIMITS.maxFileBytes), 'knee.json');
    expect(r.ok ? [] : r.errors).toEqual([]);
  });

  it('refuses one byte more, naming the file and the cap', () => {
    const r = parseProtocolText(padded(FORMAT_LIMITS.maxFileBytes + 1), 'knee.json');
    expect(r.ok ? [] : r.errors).toEqual([{ path: '', message: `knee.json is ${FORMAT_LIMITS.maxFileBytes + 1} bytes; a protocol file is at most ${FORMAT_LIMITS.maxFileBytes} bytes` }]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    // 3 bytes per character: a third of the cap in characters is already over it.
    const text = JSON.stringify({ ...knee, description: '€'.repeat(Math.ceil(FORMAT_LIMITS.maxFileBytes / 3)) });
    const r = parseProtocolText(text, 'euro.json');
    expect(r.ok ? [] : r.errors[0]?.message).toMatch(/^euro\.json is \d+ bytes; a protocol file is at most 262144 bytes$/);
  });

  it('a user protocol on disk over the cap is listed as invalid, naming the cap', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'edn-caps-'));
    dirs.push(dir);
    mkdirSync(path.join(dir, 'protocols'));
    writeFileSync(path.join(dir, 'protocols', 'cap-test.json'), padded(FORMAT_LIMITS.maxFileBytes + 1));
    const entry = new ProtocolStore(dir).read('cap-test');
    expect(entry?.validation.ok).toBe(false);
    expect(entry?.validation.ok === false ? entry.validation.errors[0]?.message : '').toContain(`at most ${FORMAT_LIMITS.maxFileBytes} bytes`);
  });
});
