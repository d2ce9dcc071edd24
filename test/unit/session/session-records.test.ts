/**
 * The session's records on their own, on virtual time, over a journaler and in-memory recorders
 * that check every record against the journal's schemas: the start record with what is known
 * (and never a name), no session when the journal cannot be created or its first record cannot be
 * written, the end record written once with the clock held and the stimulation time per phase,
 * the journal kept open after it, a session closed without an end said so, and the notes, control
 * changes and course records refused when nothing is open or the data is wrong.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { deviceInfoFromHello } from '../../../src/device/identity.js';
import { SessionClock } from '../../../src/session/clock.js';
import { Journaler } from '../../../src/session/journaler.js';
import type { RecorderFactory, SessionRecorder } from '../../../src/session/recorder.js';
import { SessionRecords } from '../../../src/session/session-records.js';
import type { SessionState } from '../../../src/session/states.js';
import { HELLO } from '../../support/device-fixtures.js';
import { MemoryRecorder, clearedFor, kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler } from '../../support/virtual-time.js';

/** A journal whose every write fails, as on a full disk. */
class FullDisk implements SessionRecorder {
  failed = false;
  closed = false;
  readonly failures$ = new Subject<unknown>();
  readonly location = 'full';
  append(): void {
    this.failed = true;
  }
  failureText(): string {
    return 'disk full (ENOSPC) at 09:31:05';
  }
  close(): void {
    this.closed = true;
  }
}

function setup(factory?: (s: ManualScheduler, memory: RecorderFactory) => RecorderFactory) {
  const s = new ManualScheduler();
  const info = deviceInfoFromHello(HELLO, { min: 1, max: 1 });
  if (!info.ok) throw new Error('fixture HELLO refused');
  const recorders: MemoryRecorder[] = [];
  const memory: RecorderFactory = () => {
    const r = new MemoryRecorder(() => s.now());
    recorders.push(r);
    return r;
  };
  const recordErrors: string[] = [];
  const journal = new Journaler({ scheduler: s, factory: factory?.(s, memory) ?? memory, onRecordError: (m) => recordErrors.push(m), onFailure: () => undefined });
  const clock = new SessionClock(s);
  let state: SessionState = 'checking-electrodes';
  let n = 0;
  const records = new SessionRecords({
    state: () => state,
    client: { info: info.value, transportName: 'fake' },
    clock,
    journal,
    newSessionId: () => `S${++n}`,
    appVersion: '9.9.9',
  });
  const protocol = kneeProtocol();
  const screening = clearedFor(protocol, 'PT-0042');
  return {
    s,
    clock,
    journal,
    records,
    recorders,
    recordErrors,
    protocol,
    screening,
    open: (clinician?: string) => records.open(clinician === undefined ? { protocol } : { protocol, clinician }, screening),
    set state(v: SessionState) {
      state = v;
    },
  };
}

describe('SessionRecords.open', () => {
  it('H10 writes the start record with everything known so far, the patient only as the pseudonymous reference', () => {
    const h = setup();
    expect(h.open('JD')).toEqual({ ok: true, value: undefined });
    expect(h.records.sessionId).toBe('S1');
    const r = h.recorders[0]!;
    expect(r.records.map((x) => x.type)).toEqual(['session-start']);
    expect(r.ofType('session-start')[0]).toMatchObject({
      sessionId: 'S1',
      patientRef: 'PT-0042',
      clinician: 'JD',
      protocol: { id: h.protocol.id, hash: h.protocol.hash },
      device: { transport: 'fake', model: HELLO.model, serial: HELLO.sn, bootId: HELLO.boot, limits: { channels: HELLO.ch } },
      screening: { status: 'cleared', patientRef: 'PT-0042', protocolHash: h.protocol.hash },
      app: { version: '9.9.9' },
    });
    // The patient appears only as the screening's pseudonymous reference: nothing else about them is added.
    expect(Object.keys(r.ofType('session-start')[0] as object).sort()).toEqual(['app', 'clinician', 'device', 'patientRef', 'protocol', 'screening', 'sessionId']);
    expect(r.invalid).toEqual([]);
    expect(h.journal.sessionOpen).toBe(true);
    // Without a clinician the field is absent, not empty.
    const g = setup();
    g.open();
    expect(g.recorders[0]!.ofType('session-start')[0]).not.toHaveProperty('clinician');
  });

  it('H10 a journal that cannot be created: no session, the reason said', () => {
    const h = setup(() => () => {
      throw new Error("EACCES: permission denied, open '/data/S1.jsonl'");
    });
    const r = h.open();
    expect(r).toEqual({ ok: false, error: { code: 'JournalUnavailable', message: "cannot open the session journal: EACCES: permission denied, open '/data/S1.jsonl'" } });
    expect(h.journal.isOpen).toBe(false);
  });

  it('H23 a first record that cannot be written: no session, the journal closed, what to do said', () => {
    const disks: FullDisk[] = [];
    const h = setup(() => () => {
      const d = new FullDisk();
      disks.push(d);
      return d;
    });
    const r = h.open();
    expect(!r.ok && r.error.code).toBe('JournalUnavailable');
    expect(!r.ok && r.error.message).toBe(
      'cannot write the session journal (disk full (ENOSPC) at 09:31:05): nothing was started; free space or fix the data directory, then submit the screening again',
    );
    expect(disks[0]!.closed).toBe(true);
    expect(h.journal.isOpen).toBe(false);
  });

  it('opening the next session closes the last one: a session still open ends "closed without an end"', () => {
    const h = setup();
    h.open();
    h.state = 'ready';
    h.open();
    const [first, second] = h.recorders;
    expect(first!.closed).toBe(true);
    expect(first!.ofType('session-end')).toEqual([{ reason: 'aborted', detail: 'closed without an end', finalState: 'ready', stimulationS: 0, phases: [{ index: 0, stimulationS: 0 }] }]);
    expect(second!.closed).toBe(false);
    expect(h.records.sessionId).toBe('S2');
  });
});

describe('SessionRecords.end and close', () => {
  it('H10 the end record once, with the final state and the stimulation time per phase, the clock held first; the journal stays open after it', () => {
    const h = setup();
    h.open();
    h.clock.run(20 * 60_000, () => undefined);
    h.s.advance(90_000);
    h.state = 'stopped';
    h.records.end('stopped', 'stopped by the clinician');
    h.s.advance(30_000);
    h.records.end('aborted', 'too late');
    const r = h.recorders[0]!;
    expect(r.ofType('session-end')).toEqual([{ reason: 'stopped', detail: 'stopped by the clinician', finalState: 'stopped', stimulationS: 90, phases: [{ index: 0, stimulationS: 90 }] }]);
    expect(h.clock.elapsedMs()).toBe(90_000);
    expect(h.records.note('after the stop: patient comfortable')).toEqual({ ok: true, value: undefined });
    expect(r.records.map((x) => x.type).slice(-2)).toEqual(['session-end', 'note']);
    expect(r.closed).toBe(false);
    h.records.close();
    expect(r.closed).toBe(true);
    expect(r.ofType('session-end')).toHaveLength(1);
    expect(r.invalid).toEqual([]);
  });

  it('an end without a detail has none; with no journal open, end and close do nothing', () => {
    const h = setup();
    h.records.end('completed', undefined);
    h.records.close();
    expect(h.recorders).toEqual([]);
    h.open();
    h.state = 'completed';
    h.records.end('completed', undefined);
    expect(h.recorders[0]!.ofType('session-end')[0]).not.toHaveProperty('detail');
  });
});

describe('SessionRecords: notes, control, course', () => {
  it('H27 refused with nothing open; a note that identifies someone, or one too long or empty, refused and not written', () => {
    const h = setup();
    expect(h.records.note('fine')).toMatchObject({ ok: false, error: { code: 'NoSession' } });
    const takeOver = { change: 'take-over', from: 'tab-1', to: 'tab-2', fromPresent: true } as const;
    expect(h.records.control(takeOver)).toMatchObject({ ok: false, error: { code: 'NoSession' } });
    h.open();
    const identifying = h.records.note('call her on 0612345678 tomorrow');
    expect(!identifying.ok && identifying.error.code).toBe('Invalid');
    expect(!identifying.ok && identifying.error.message).toContain('must not identify the patient');
    expect(h.records.note('   ')).toEqual({ ok: false, error: { code: 'Invalid', message: 'a note must be 1-2000 characters' } });
    expect(h.records.note('x'.repeat(2001)).ok).toBe(false);
    expect(h.records.note('  twitch at L4  ')).toEqual({ ok: true, value: undefined });
    expect(h.recorders[0]!.ofType('note')).toEqual([{ text: 'twitch at L4' }]);
    expect(h.records.control(takeOver).ok).toBe(true);
    expect(h.recorders[0]!.ofType('control')).toEqual([takeOver]);
    expect(h.recorders[0]!.invalid).toEqual([]);
  });

  it('a course record that does not fit its schema is refused naming the field, and not written', () => {
    const h = setup();
    h.open();
    const bad = h.records.course('outcome', { timepoint: 'later', instrumentId: 'nprs', instrumentVersion: '1', instrumentHash: 'a'.repeat(64), scores: { nprs: 4 } } as never);
    expect(!bad.ok && bad.error.code).toBe('Invalid');
    expect(!bad.ok && bad.error.message).toMatch(/^outcome record: timepoint: /);
    const good = h.records.course('outcome', { timepoint: 'before', instrumentId: 'nprs', instrumentVersion: '1', instrumentHash: 'a'.repeat(64), scores: { nprs: 4 } });
    expect(good.ok).toBe(true);
    expect(h.recorders[0]!.ofType('outcome')).toEqual([{ timepoint: 'before', instrumentId: 'nprs', instrumentVersion: '1', instrumentHash: 'a'.repeat(64), scores: { nprs: 4 } }]);
    expect(h.recorders[0]!.invalid).toEqual([]);
  });
});
