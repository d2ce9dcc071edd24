/**
 * The mutants left alive in session-records.ts by its own test (MUTATION.md, the session group),
 * killed through the part's interface on virtual time: no session without a device (and the last
 * one left as it was), the treated side in the start record, an end with no session open that
 * leaves the clock alone, an end record whose protocol is unknown, the note's length boundary, and
 * every refusal and course-record error as the whole message the clinician reads.
 */
import { describe, expect, it } from 'vitest';
import { deviceInfoFromHello } from '../../../src/device/identity.js';
import { SessionClock } from '../../../src/session/clock.js';
import type { RecordDataInput } from '../../../src/session/journal-records.js';
import { Journaler } from '../../../src/session/journaler.js';
import { SessionRecords, type SessionRecordsContext } from '../../../src/session/session-records.js';
import type { SessionState } from '../../../src/session/states.js';
import { HELLO } from '../../support/device-fixtures.js';
import { MemoryRecorder, clearedFor, kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler } from '../../support/virtual-time.js';

function setup(options: { connected?: boolean } = {}) {
  const s = new ManualScheduler();
  const hello = deviceInfoFromHello(HELLO, { min: 1, max: 1 });
  if (!hello.ok) throw new Error('fixture HELLO refused');
  const client: { info: typeof hello.value | undefined; transportName: string } = { info: options.connected === false ? undefined : hello.value, transportName: 'fake' };
  const recorders: MemoryRecorder[] = [];
  const journal = new Journaler({
    scheduler: s,
    factory: () => {
      const r = new MemoryRecorder(() => s.now());
      recorders.push(r);
      return r;
    },
    onRecordError: () => undefined,
    onFailure: () => undefined,
  });
  const clock = new SessionClock(s);
  let state: SessionState = 'checking-electrodes';
  let n = 0;
  const records = new SessionRecords({ state: () => state, client, clock, journal, newSessionId: () => `S${++n}`, appVersion: '9.9.9' });
  const protocol = kneeProtocol();
  const screening = clearedFor(protocol, 'PT-0042');
  return {
    s,
    client,
    clock,
    journal,
    records,
    recorders,
    protocol,
    screening,
    setState: (v: SessionState) => (state = v),
  };
}

describe('SessionRecords.open, mutation survivors', () => {
  it('H10 no device, no session: refused as not connected, no journal created, the last session left as it was', () => {
    const h = setup();
    expect(h.records.open({ protocol: h.protocol }, h.screening).ok).toBe(true);
    h.client.info = undefined;
    expect(h.records.open({ protocol: h.protocol }, h.screening)).toEqual({ ok: false, error: { code: 'NotConnected', message: 'the device is not connected' } });
    expect(h.recorders).toHaveLength(1);
    expect(h.recorders[0]!.closed).toBe(false);
    expect(h.recorders[0]!.ofType('session-end')).toEqual([]);
    expect(h.records.sessionId).toBe('S1');
    expect(h.journal.sessionOpen).toBe(true);
  });

  it('H10 never connected: open refuses and nothing at all is written', () => {
    const h = setup({ connected: false });
    expect(h.records.open({ protocol: h.protocol }, h.screening)).toEqual({ ok: false, error: { code: 'NotConnected', message: 'the device is not connected' } });
    expect(h.recorders).toEqual([]);
    expect(h.records.sessionId).toBeUndefined();
  });

  it('H32 the treated side chosen for the session is in its start record', () => {
    for (const side of ['left', 'right', 'bilateral'] as const) {
      const h = setup();
      expect(h.records.open({ protocol: h.protocol, side }, h.screening).ok).toBe(true);
      const start = h.recorders[0]!.ofType('session-start')[0];
      expect(start).toMatchObject({ sessionId: 'S1', side });
      expect(h.recorders[0]!.invalid).toEqual([]);
    }
    const none = setup();
    none.records.open({ protocol: none.protocol }, none.screening);
    expect(none.recorders[0]!.ofType('session-start')[0]).not.toHaveProperty('side');
  });
});

describe('SessionRecords.end, mutation survivors', () => {
  it('H10 with no journal open, end does nothing: the clock keeps counting', () => {
    const h = setup();
    h.clock.run(60_000, () => undefined);
    h.s.advance(10_000);
    h.records.end('aborted', 'nothing open');
    h.s.advance(10_000);
    expect(h.clock.running).toBe(true);
    expect(h.clock.elapsedMs()).toBe(20_000);
    expect(h.recorders).toEqual([]);
  });

  it('H10 after the end record (journal still open), a second end neither writes nor holds the clock', () => {
    const h = setup();
    h.records.open({ protocol: h.protocol }, h.screening);
    h.clock.run(60_000, () => undefined);
    h.s.advance(5_000);
    h.setState('stopped');
    h.records.end('stopped', 'stopped by the clinician');
    expect(h.journal.isOpen).toBe(true);
    expect(h.journal.sessionOpen).toBe(false);
    // The clock counts again (what the runner would do in the next session's segment).
    h.clock.run(60_000, () => undefined);
    h.s.advance(2_000);
    h.records.end('aborted', 'late');
    h.s.advance(3_000);
    expect(h.clock.running).toBe(true);
    expect(h.clock.elapsedMs()).toBe(10_000);
    expect(h.recorders[0]!.ofType('session-end')).toEqual([{ reason: 'stopped', detail: 'stopped by the clinician', finalState: 'stopped', stimulationS: 5, phases: [{ index: 0, stimulationS: 5 }] }]);
  });

  it('H10 an end record for a session opened outside this part (no protocol known) lists no phases', () => {
    const s = new ManualScheduler();
    const clock = new SessionClock(s);
    const ended: unknown[] = [];
    const journal: SessionRecordsContext['journal'] = {
      open: () => ({ ok: true }),
      end: (data) => ended.push(data),
      close: () => undefined,
      record: () => undefined,
      isOpen: true,
      sessionOpen: true,
    };
    const records = new SessionRecords({ state: () => 'aborted', client: { info: undefined, transportName: 'fake' }, clock, journal, newSessionId: () => 'S1', appVersion: '9.9.9' });
    records.end('aborted', 'the port closed');
    expect(ended).toEqual([{ reason: 'aborted', detail: 'the port closed', finalState: 'aborted', stimulationS: 0, phases: [] }]);
  });
});

describe('SessionRecords: notes, control, course, mutation survivors', () => {
  it('H27 a note of exactly 2000 characters is taken, 2001 refused with the rule', () => {
    const h = setup();
    h.records.open({ protocol: h.protocol }, h.screening);
    const longest = 'twitch at L4, '.repeat(143).slice(0, 2000);
    expect(longest).toHaveLength(2000);
    expect(h.records.note(longest)).toEqual({ ok: true, value: undefined });
    expect(h.records.note(`${longest}x`)).toEqual({ ok: false, error: { code: 'Invalid', message: 'a note must be 1-2000 characters' } });
    expect(h.recorders[0]!.ofType('note')).toEqual([{ text: longest }]);
    expect(h.recorders[0]!.invalid).toEqual([]);
  });

  it('H21 H27 with no session open, a note, a control change and a course record are each refused saying so, and nothing is written', () => {
    const h = setup();
    expect(h.records.note('fine')).toEqual({ ok: false, error: { code: 'NoSession', message: 'notes belong to a session: there is none open' } });
    expect(h.records.control({ change: 'take-over', from: 'tab-1', to: 'tab-2', fromPresent: true })).toEqual({
      ok: false,
      error: { code: 'NoSession', message: 'no session record is open' },
    });
    expect(h.records.course('adverse-effects', { effects: [] })).toEqual({ ok: false, error: { code: 'NoSession', message: 'no session record is open' } });
    expect(h.recorders).toEqual([]);
    // Once closed again, the same holds.
    h.records.open({ protocol: h.protocol }, h.screening);
    h.records.close();
    expect(h.records.course('adverse-effects', { effects: [] })).toEqual({ ok: false, error: { code: 'NoSession', message: 'no session record is open' } });
    expect(h.recorders[0]!.ofType('adverse-effects')).toEqual([]);
  });

  it('a course record wrong deep inside names the field by its dotted path', () => {
    const h = setup();
    h.records.open({ protocol: h.protocol }, h.screening);
    const course: RecordDataInput<'course'> = {
      courseId: 'C20250314-7KQ2MD',
      sessionNumber: 2,
      milestone: false,
      course: {
        patientRef: 'PT-0042',
        indication: 'knee osteoarthritis',
        protocolId: h.protocol.id,
        plannedSessions: 6,
        intervalDays: 7,
        startDate: '2025-02-30',
        status: 'active',
        milestones: ['first', 'last'],
      },
    };
    expect(h.records.course('course', course)).toEqual({ ok: false, error: { code: 'Invalid', message: 'course record: course.startDate: is not a real date' } });
    expect(h.records.course('course', { ...course, course: { ...course.course, startDate: '2025-02-28' } })).toEqual({ ok: true, value: undefined });
    expect(h.recorders[0]!.ofType('course')).toHaveLength(1);
    expect(h.recorders[0]!.invalid).toEqual([]);
  });

  it('a course record wrong as a whole (a field it does not have) is named as the root', () => {
    const h = setup();
    h.records.open({ protocol: h.protocol }, h.screening);
    const r = h.records.course('adverse-effects', { effects: [], patientName: 'x' } as never);
    expect(r).toEqual({ ok: false, error: { code: 'Invalid', message: 'adverse-effects record: (root): Unrecognized key: "patientName"' } });
    expect(h.recorders[0]!.ofType('adverse-effects')).toEqual([]);
  });
});
