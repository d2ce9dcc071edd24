/**
 * Whole results of protocol validation (issue 11 §4, the protocols mutation group): the path, the
 * message, the line and column and the order of every finding for files that are not objects, of
 * another format version, over the phase or size cap, with a broken union form, with an unpaired
 * surrogate, and findings located deep in arrays or under quoted keys.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FORMAT_LIMITS } from '../../../src/domain/safety/limits.js';
import { parseProtocolText, validateProtocol } from '../../../src/domain/protocols/validate.js';

const BASE = readFileSync(path.resolve(import.meta.dirname, '../../fixtures/protocols/valid/base.json'), 'utf8');
interface Phase {
  durationMin: number;
  pulseWidthUs: number;
  frequencyHz?: number;
  pattern?: unknown;
  amplitude: { maxMa: number; rampMaPerS: number };
  [key: string]: unknown;
}
type Draft = Record<string, unknown> & {
  format: string;
  electrode: { kind: string; diameterMm: number; insertedLengthMm: number };
  channels: { sites: unknown[] }[];
  phases: Phase[];
};
const base = () => JSON.parse(BASE) as Draft;
const phase0 = (d: Draft): Phase => d.phases[0]!;
const WHOLE_FILE = 'a protocol file is a JSON object with "format": "edn-protocol/1"';

/** 1-based line and column in `text` of the first `needle`, or of what follows it with `after`. */
function place(text: string, needle: string, after = false): { line: number; column: number } {
  const found = text.indexOf(needle);
  if (found < 0) throw new Error(`${needle} not in the text`);
  const before = text.slice(0, after ? found + needle.length : found).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}
/** Where the value of `key` (e.g. '"maxMa": ') starts: findings are located at the value. */
const valueAfter = (text: string, key: string) => place(text, key, true);

describe('a value that is not a protocol object', () => {
  it.each([
    ['null', null],
    ['an array', []],
    ['an array of objects', [JSON.parse(BASE)]],
    ['a string', 'edn-protocol/1'],
    ['a number', 42],
  ])('%s is refused as a whole, with no warnings', (_label, json) => {
    expect(validateProtocol(json)).toEqual({ ok: false, errors: [{ path: '', message: WHOLE_FILE }], warnings: [] });
  });
});

describe('the format version', () => {
  it('another edn-protocol version is refused naming both versions, before any other field is checked', () => {
    const d = base();
    d.format = 'edn-protocol/2';
    d.phases = [];
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'format', message: '"edn-protocol/2" is not a format this version reads; it reads "edn-protocol/1"' }],
      warnings: [],
    });
  });

  it.each(['x-edn-protocol/2', 'foo', 'EDN-PROTOCOL/1'])('"%s" is not an edn-protocol version: the schema calls it unsupported', (format) => {
    const d = base();
    d.format = format;
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'format', message: `"${format}" is not a supported format; this version reads "edn-protocol/1"` }],
      warnings: [],
    });
  });
  it('a format that is not a string is never read as a version, even when its text would be one', () => {
    const d: Record<string, unknown> = base();
    d.format = ['edn-protocol/2'];
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'format', message: 'a list is not a supported format; this version reads "edn-protocol/1"' }],
      warnings: [],
    });
  });
});

describe('the caps that bound one validation (H28)', () => {
  it('H28: more phases than the cap is one error on "phases", even when every phase is malformed', () => {
    const d = base();
    d.phases = Array.from({ length: FORMAT_LIMITS.maxPhases + 1 }, () => ({}) as Phase);
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'phases', message: `${FORMAT_LIMITS.maxPhases + 1} phases is above the ${FORMAT_LIMITS.maxPhases}-phase maximum of a protocol file` }],
      warnings: [],
    });
  });

  it('H28: over the cap, no phase is read at all (the cap bounds the cost, so it is checked first)', () => {
    let reads = 0;
    const phases = new Proxy(
      Array.from({ length: FORMAT_LIMITS.maxPhases + 1 }, () => ({})),
      { get: (target, key, receiver) => (typeof key === 'string' && /^[0-9]+$/.test(key) && reads++, Reflect.get(target, key, receiver) as unknown) },
    );
    const d = { ...base(), phases };
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'phases', message: `${FORMAT_LIMITS.maxPhases + 1} phases is above the ${FORMAT_LIMITS.maxPhases}-phase maximum of a protocol file` }],
      warnings: [],
    });
    expect(reads).toBe(0);
  });

  it('H28: exactly the cap is parsed phase by phase (the malformed phases are named)', () => {
    const d = base();
    d.phases = Array.from({ length: FORMAT_LIMITS.maxPhases }, () => ({}) as Phase);
    const r = validateProtocol(d);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).not.toContain('phases');
    expect(r.errors).toContainEqual({ path: `phases[${FORMAT_LIMITS.maxPhases - 1}].name`, message: 'required field is missing (a phase name)' });
  });

  it('H28: a file over the byte cap is one error naming the file and both sizes, with no line and no warnings', () => {
    const text = `{"aftercare": "${'x'.repeat(FORMAT_LIMITS.maxFileBytes)}"}`;
    expect(parseProtocolText(text, 'big.json')).toEqual({
      ok: false,
      errors: [{ path: '', message: `big.json is ${text.length} bytes; a protocol file is at most ${FORMAT_LIMITS.maxFileBytes} bytes` }],
      warnings: [],
    });
  });

  it('H28: the byte cap counts UTF-8 bytes, not characters', () => {
    const chars = Math.floor(FORMAT_LIMITS.maxFileBytes / 3) + 10;
    const text = `{"aftercare": "${'€'.repeat(chars)}"}`;
    const bytes = new TextEncoder().encode(text).length;
    expect(text.length).toBeLessThan(FORMAT_LIMITS.maxFileBytes);
    expect(parseProtocolText(text, 'euro.json')).toEqual({
      ok: false,
      errors: [{ path: '', message: `euro.json is ${bytes} bytes; a protocol file is at most ${FORMAT_LIMITS.maxFileBytes} bytes` }],
      warnings: [],
    });
  });
});

describe('JSON syntax and located findings', () => {
  it('a syntax error names the file, the problem, its line and column, with no warnings', () => {
    expect(parseProtocolText('{\n  "a": ,\n}', 'bad.json')).toEqual({
      ok: false,
      errors: [{ path: '', message: "bad.json is not valid JSON: unexpected ',' (expected a value)", line: 2, column: 8 }],
      warnings: [],
    });
  });

  it('findings come in file order: by line, then by column on one line', () => {
    const d = base();
    const text = JSON.stringify(d, null, 2).replace('"name": "Test protocol for the knee",\n  "indication": "Knee pain (test fixture)",', '"indication": 6, "name": 5,');
    const r = parseProtocolText(text, 't.json');
    expect(r).toEqual({
      ok: false,
      errors: [
        { path: 'indication', message: 'expected an indication, got number 6', ...place(text, '6, "name"') },
        { path: 'name', message: 'expected a name, got number 5', ...place(text, '5,') },
      ],
      warnings: [],
    });
    // The schema reports "id" before "aftercare"; the file has "aftercare" first.
    const { aftercare: _aftercare, ...rest } = d;
    const lines = JSON.stringify({ aftercare: 7, ...rest, id: 't' }, null, 2);
    const r2 = parseProtocolText(lines, 'l.json');
    expect(r2.ok ? [] : r2.errors.map((e) => [e.path, e.line])).toEqual([
      ['aftercare', 2],
      ['id', place(lines, '"t"').line],
    ]);
  });

  it('findings on one line that the schema reports in file order keep that order', () => {
    const text = JSON.stringify(base(), null, 2).replace(
      '"id": "test-knee",\n  "name": "Test protocol for the knee",\n  "indication": "Knee pain (test fixture)",',
      '"id": 4, "name": 5, "indication": 6,',
    );
    const r = parseProtocolText(text, 'o.json');
    expect(r.ok ? [] : r.errors.map((e) => [e.path, e.line, e.column])).toEqual([
      ['id', 3, place(text, '4,').column],
      ['name', 3, place(text, '5,').column],
      ['indication', 3, place(text, '6,').column],
    ]);
  });

  it('a finding inside an array at index 10 or more, and under a quoted key, is located at its value', () => {
    const d = base();
    d.phases = Array.from({ length: 11 }, () => ({ ...structuredClone(phase0(d)), durationMin: 1 }));
    d.phases[10]!.bogus = 1;
    d.phases[10]!['my "key"'] = 2;
    const text = JSON.stringify(d, null, 2);
    const allowed = 'allowed here: name, durationMin, waveform, frequencyHz, pattern, pulseWidthUs, amplitude, notes';
    expect(parseProtocolText(text, 'i.json')).toEqual({
      ok: false,
      errors: [
        { path: 'phases[10].bogus', message: `unknown field "bogus"; ${allowed}`, ...valueAfter(text, '"bogus": ') },
        { path: 'phases[10]["my \\"key\\""]', message: `unknown field "my "key""; ${allowed}`, ...valueAfter(text, '"my \\"key\\"": ') },
      ],
      warnings: [],
    });
  });

  it('a finding in a channel list is located at the channel entry, not at the file', () => {
    const d = base();
    d.channels[1]!.sites[1] = 5;
    const text = JSON.stringify(d, null, 2);
    const r = parseProtocolText(text, 'c.json');
    expect(r).toEqual({
      ok: false,
      errors: [{ path: 'channels[1].sites[1]', message: 'expected a site name or {"site": ..., "note": ...}, got number 5', ...place(text, '5\n') }],
      warnings: [],
    });
  });

  it('H1: guard findings from text carry the place of the field to change, warnings too (H2 Shannon k)', () => {
    const d = base();
    phase0(d).amplitude.maxMa = 20;
    phase0(d).pulseWidthUs = 600;
    const text = JSON.stringify(d, null, 2);
    const at = valueAfter(text, '"maxMa": ');
    const r = parseProtocolText(text, 'k.json');
    expect(r).toEqual({
      ok: false,
      errors: [{ path: 'phases[0].amplitude.maxMa', message: expect.stringContaining('gives Shannon k 2.58, at or above the 1.85 tissue-damage threshold') as unknown, ...at }],
      warnings: [{ path: 'phases[0].amplitude.maxMa', message: expect.stringContaining('RMS current density') as unknown, ...at }],
    });
  });
});

describe('union forms', () => {
  it('a schedule object with bad fields reports those fields, not the whole union', () => {
    const d = base();
    d.schedule = { sessions: 'x' };
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [
        { path: 'schedule.sessions', message: 'expected a number, got "x"' },
        { path: 'schedule.intervalDays', message: 'required field is missing (a number)' },
      ],
      warnings: [],
    });
  });

  it('a schedule of neither form is one error on "schedule"', () => {
    const d = base();
    d.schedule = 5;
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'schedule', message: 'expected a schedule: an object such as {"sessions": 6, "intervalDays": 7} (or, in the older form, text), got number 5' }],
      warnings: [],
    });
  });

  it('a site object without "site" gets the site\'s own message on the entry', () => {
    const d = base();
    d.channels[0]!.sites[1] = { name: 'vastus medialis', note: 'distal' };
    const r = validateProtocol(d);
    expect(r.ok ? [] : r.errors).toEqual([{ path: 'channels[0].sites[1]', message: 'a site with a note needs both "site" (a listed site) and "note": "site" is missing' }]);
  });
});

describe('after the schema', () => {
  it('an unpaired surrogate is refused on its field with the reason and the fix', () => {
    const d = base();
    d.name = 'knee \uD800 protocol';
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'name', message: 'text with an unpaired UTF-16 surrogate (a lone \\uD800-\\uDFFF escape) is not Unicode text and cannot be hashed: write the character itself' }],
      warnings: [],
    });
  });

  it('H1: a burst whose pulses do not fit its period is refused by the guard on the pattern field', () => {
    const d = base();
    delete phase0(d).frequencyHz;
    phase0(d).pattern = { kind: 'burst', burstRateHz: 2, intraBurstHz: 100, pulsesPerBurst: 60 };
    expect(validateProtocol(d)).toEqual({
      ok: false,
      errors: [{ path: 'phases[0].pattern.pulsesPerBurst', message: '60 pulses at 100 Hz do not fit in one burst period at 2 Hz: at most 50' }],
      warnings: [],
    });
  });
});
