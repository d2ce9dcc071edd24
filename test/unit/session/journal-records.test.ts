import { describe, expect, expectTypeOf, it } from 'vitest';
import { BUILT_INS } from '../../../src/domain/protocols/index.js';
import {
  DATA_SCHEMAS,
  GENESIS_PREV,
  type JournalRecord,
  JournalRecordSchema,
  RECORD_TYPES,
  type RecordData,
  TelemetrySummariser,
  protocolRecord,
} from '../../../src/session/journal-records.js';
import { sha256Hex } from '../../../src/domain/hash/sha256.js';
import { EXAMPLES, clearedScreening, sessionStart } from '../../fixtures/journals/helpers.js';

describe('journal record schemas', () => {
  it('GENESIS_PREV is the SHA-256 of the empty string', () => {
    expect(GENESIS_PREV).toBe(sha256Hex(''));
  });

  it.each(RECORD_TYPES)('accepts a valid %s and refuses an unknown extra field', (type) => {
    const schema = DATA_SCHEMAS[type];
    expect(schema.safeParse(EXAMPLES[type]).success).toBe(true);
    expect(schema.safeParse({ ...EXAMPLES[type], surprise: 1 }).success).toBe(false);
  });

  it('every record type has an example (the list above is complete)', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual([...RECORD_TYPES].sort());
  });

  it('validates a whole record: envelope fields, key set and the type/data pairing', () => {
    const ok = { n: 0, t: 12.5, ts: '2025-03-14T09:30:00.123Z', type: 'note', data: { text: 'x' }, prev: GENESIS_PREV };
    expect(JournalRecordSchema.safeParse(ok).success).toBe(true);
    const bad = [
      { ...ok, n: -1 },
      { ...ok, n: 1.5 },
      { ...ok, t: -1 },
      { ...ok, ts: '2025-03-14T09:30:00Z' },
      { ...ok, ts: '2025-03-14T09:30:00.123+01:00' },
      { ...ok, ts: '2025-02-30T09:30:00.123Z' },
      { ...ok, prev: 'E3B0' + GENESIS_PREV.slice(4) },
      { ...ok, type: 'state' },
      { ...ok, type: 'nonsense' },
      { ...ok, extra: true },
      { ...ok, data: { text: '' } },
    ];
    for (const b of bad) expect(JournalRecordSchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
  });

  it('holds the patient reference to a pseudonym: no names, e-mail addresses or phone numbers', () => {
    const schema = DATA_SCHEMAS['session-start'];
    for (const ref of ['PT-0042', 'a1c', 'KNEE-2025-0001']) expect(schema.safeParse(sessionStart({ patientRef: ref })).success, ref).toBe(true);
    for (const ref of ['Jane Doe', 'JaneDoe', 'jane@example.org', '+44 20 7946 0000', '02079460000', '1990-04-12', 'J.Doe', 'a1', 'x1'.repeat(17), '']) {
      expect(schema.safeParse(sessionStart({ patientRef: ref })).success, ref).toBe(false);
    }
    expect(schema.safeParse(sessionStart({ clinician: 'Jane Doe' })).success).toBe(false);
    expect(schema.safeParse(sessionStart({ clinician: 'J.D.' })).success).toBe(true);
  });

  it('requires the screening to be this patient\'s clearance for this exact protocol version', () => {
    const schema = DATA_SCHEMAS['session-start'];
    const ok = sessionStart();
    expect(schema.safeParse(ok).success).toBe(true);
    const issues = (data: unknown) => {
      const r = schema.safeParse(data);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ ...ok, screening: { ...ok.screening, patientRef: 'PT-9999' } })).toEqual(['screening.patientRef: the screening is for PT-9999, not PT-0042']);
    expect(issues({ ...ok, protocol: { ...ok.protocol, hash: 'b'.repeat(64) } })).toEqual([
      'screening.protocolHash: the screening is for another version of the protocol (content hash differs)',
    ]);
    expect(issues({ ...ok, screening: { ...ok.screening, status: 'blocked' } })).toHaveLength(1);
    expect(issues({ ...ok, screening: clearedScreening('PT-0042', ok.protocol, ['needlePhobia']) })).toEqual([]);
  });

  it('records facts beyond the limits rather than refusing them (the journal is not the guard)', () => {
    expect(DATA_SCHEMAS.amplitude.safeParse({ channel: 1, targetMa: 25, commandedMa: 25, cause: 'fault' }).success).toBe(true);
    expect(DATA_SCHEMAS.amplitude.safeParse({ channel: 1, targetMa: -1, commandedMa: 0, cause: 'ramp' }).success).toBe(false);
    expect(DATA_SCHEMAS.amplitude.safeParse({ channel: 1, targetMa: Infinity, commandedMa: 0, cause: 'ramp' }).success).toBe(false);
  });

  it('refuses a telemetry window that ends before it starts', () => {
    expect(DATA_SCHEMAS.telemetry.safeParse({ fromT: 2000, toT: 1000, channels: [] }).success).toBe(false);
  });

  it('infers the record types from the schemas', () => {
    expectTypeOf<RecordData<'amplitude'>['cause']>().toEqualTypeOf<'ramp' | 'titration' | 'pause' | 'resume' | 'ramp-down' | 'stop' | 'estop' | 'fault'>();
    expectTypeOf<Extract<JournalRecord, { type: 'note' }>['data']>().toEqualTypeOf<{ text: string }>();
  });
});

describe('protocolRecord', () => {
  it.each(BUILT_INS.map((b) => [b.id, b.protocol] as const))('turns the built-in %s into a valid session-start protocol', (_id, protocol) => {
    const record = protocolRecord(protocol);
    const parsed = DATA_SCHEMAS['session-start'].safeParse(sessionStart({ protocol: record }));
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
    expect(record.hash).toBe(protocol.hash);
    expect(record.phases.map((p) => p.durationS)).toEqual(protocol.phases.map((p) => p.durationMin * 60));
    expect(record.aftercare).toBe(protocol.aftercare);
  });
});

describe('TelemetrySummariser', () => {
  const tel = (ch: number, ma: number, qNc: number, z: number | 'OPEN' = 1500) => ({ ch, i: Math.round(ma * 1000), z, q: qNc });

  it('yields nothing until a second of session time has passed, then the mean, max, impedance and charge', () => {
    const s = new TelemetrySummariser(5000);
    for (let k = 0; k < 10; k++) expect(s.add(5000 + k * 100, tel(1, 1 + k * 0.1, (k + 1) * 50))).toBeUndefined();
    expect(s.tick(5999)).toBeUndefined();
    const summary = s.tick(6000);
    expect(summary).toEqual({ fromT: 5000, toT: 6000, channels: [{ channel: 1, meanMa: 1.45, maxMa: 1.9, impedanceOhm: 1500, chargeUc: 0.5 }] });
    expect(s.tick(7000)).toBeUndefined(); // nothing arrived: no record
  });

  it('returns the summary from add() when a sample arrives after the window ended (the sample starts the next one)', () => {
    const s = new TelemetrySummariser(0);
    s.add(0, tel(1, 2, 100));
    const summary = s.add(1000, tel(1, 3, 250));
    expect(summary?.channels[0]).toMatchObject({ meanMa: 2, maxMa: 2, chargeUc: 0.1 });
    expect(s.flush(1500)).toEqual({ fromT: 1000, toT: 1500, channels: [{ channel: 1, meanMa: 3, maxMa: 3, impedanceOhm: 1500, chargeUc: 0.25 }] });
  });

  it('keeps channels apart, marks a window OPEN if any sample was, and counts charge across a restart of the device counter', () => {
    const s = new TelemetrySummariser(0);
    s.add(0, tel(2, 1, 400));
    s.add(0, tel(1, 1, 100));
    s.add(100, tel(1, 1, 200, 'OPEN'));
    s.add(200, tel(1, 1, 300, 1600));
    const first = s.tick(1000)!;
    expect(first.channels.map((c) => c.channel)).toEqual([1, 2]);
    expect(first.channels[0]).toMatchObject({ impedanceOhm: 'OPEN', chargeUc: 0.3 });
    s.add(1000, tel(1, 1, 50)); // START again: the device counts from 0
    const second = s.flush(1100)!;
    expect(second.channels).toEqual([{ channel: 1, meanMa: 1, maxMa: 1, impedanceOhm: 1500, chargeUc: 0.35 }]);
    expect(DATA_SCHEMAS.telemetry.safeParse(second).success).toBe(true);
  });
});
