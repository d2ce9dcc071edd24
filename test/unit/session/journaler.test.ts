/**
 * The journaler on its own, on virtual time, with a recorder that can fail like a full disk:
 * what opening refuses, that the journal stays open after the end record, the failure recorded
 * once and the session told, the held records retried every JOURNAL_RETRY_MS, 1 Hz telemetry
 * summaries with charge counted per START, and which wire lines become records.
 */
import { Subject } from 'rxjs';
import { frame } from '../../../firmware-protocol/index.js';
import { describe, expect, it } from 'vitest';
import { JOURNAL_RETRY_MS, Journaler, TELEMETRY_SUMMARY_MS } from '../../../src/session/journaler.js';
import type { SessionRecorder } from '../../../src/session/recorder.js';
import { sessionStart } from '../../fixtures/journals/helpers.js';
import { ManualScheduler } from '../../support/virtual-time.js';

class FlakyRecorder implements SessionRecorder {
  readonly written: { type: string; data: unknown }[] = [];
  readonly held: { type: string; data: unknown }[] = [];
  readonly failures$ = new Subject<unknown>();
  readonly flushes: number[] = [];
  readonly location = 'flaky';
  diskFull = false;
  closed = false;
  constructor(private readonly now: () => number) {}
  get failed(): boolean {
    return this.held.length > 0;
  }
  append(type: string, data: unknown): void {
    if (this.closed) throw new Error('append after close');
    if (this.diskFull || this.failed) {
      const first = !this.failed;
      this.held.push({ type, data });
      if (first) this.failures$.next({ operation: 'write', code: 'ENOSPC', message: 'no space left on device', pending: 1 });
      return;
    }
    this.written.push({ type, data });
  }
  failureText(): string {
    return 'disk full (ENOSPC)';
  }
  flush(): boolean {
    this.flushes.push(this.now());
    if (this.diskFull) return false;
    this.written.push(...this.held.splice(0));
    return true;
  }
  close(): void {
    this.closed = true;
  }
  types(): string[] {
    return this.written.map((r) => r.type);
  }
}

function setup(factory?: (id: string) => SessionRecorder) {
  const s = new ManualScheduler();
  const recorders: FlakyRecorder[] = [];
  const said: string[] = [];
  const failures: string[] = [];
  const j = new Journaler({
    scheduler: s,
    factory:
      factory ??
      (() => {
        const r = new FlakyRecorder(() => s.now());
        recorders.push(r);
        return r;
      }),
    onRecordError: (m) => said.push(m),
    onFailure: (t) => failures.push(t),
  });
  return { s, j, recorders, said, failures };
}

const tel = (ch: number, ua: number, qNc: number, z: number | 'OPEN' = 1500) => ({ ch, i: ua, z, q: qNc });

describe('Journaler', () => {
  it('a journal that cannot be created, or whose first record cannot be written, opens no session', () => {
    const a = setup(() => {
      throw new Error('EACCES: read-only data directory');
    });
    expect(a.j.open('S1', sessionStart())).toEqual({ ok: false, error: { kind: 'open', message: 'cannot open the session journal: EACCES: read-only data directory' } });
    expect([a.j.isOpen, a.j.sessionOpen]).toEqual([false, false]);

    const b = setup(() => {
      const r = new FlakyRecorder(() => 0);
      r.diskFull = true;
      return r;
    });
    expect(b.j.open('S1', sessionStart())).toEqual({ ok: false, error: { kind: 'write', message: 'disk full (ENOSPC)' } });
    expect(b.j.isOpen).toBe(false);
  });

  it('stays open after the end record, so what happens afterwards is recorded in the same journal', () => {
    const { j, recorders } = setup();
    expect(j.open('S1', sessionStart()).ok).toBe(true);
    j.end({ reason: 'stopped', finalState: 'stopped', stimulationS: 12, phases: [] });
    expect(j.sessionOpen).toBe(false);
    j.record('fault', { channel: 2, code: 'OPEN', message: 'Channel 2 open circuit' });
    j.end({ reason: 'aborted', finalState: 'aborted', stimulationS: 12, phases: [] }); // a second end is not written
    expect(recorders[0]!.types()).toEqual(['session-start', 'session-end', 'fault']);
    j.close();
    expect(recorders[0]!.closed).toBe(true);
    j.record('note', { text: 'after close' }); // nothing open: nothing written, nothing thrown
    expect(recorders[0]!.types()).toHaveLength(3);
  });

  it('a failure is recorded once into the held backlog, the open session is told, and the backlog is retried every JOURNAL_RETRY_MS', () => {
    const { s, j, recorders, failures } = setup();
    j.open('S1', sessionStart());
    const r = recorders[0]!;
    r.diskFull = true;
    j.record('amplitude', { channel: 1, targetMa: 2, commandedMa: 1, cause: 'ramp' });
    j.record('amplitude', { channel: 1, targetMa: 2, commandedMa: 1.2, cause: 'ramp' });
    expect(failures).toEqual(['disk full (ENOSPC)']);
    expect(j.failingSession).toBe(true);
    expect(r.held.map((x) => x.type)).toEqual(['amplitude', 'journal-failure', 'amplitude']);
    // The loop ticks every 50 ms; the held records are tried no more often than once a second.
    for (let t = 0; t < 2500; t += 50) {
      s.advanceTo(1000 + t);
      j.tick();
    }
    expect(r.flushes).toEqual([1000, 1000 + JOURNAL_RETRY_MS, 1000 + 2 * JOURNAL_RETRY_MS]);
    r.diskFull = false;
    s.advanceTo(1000 + 3 * JOURNAL_RETRY_MS);
    j.tick();
    expect(r.types()).toEqual(['session-start', 'amplitude', 'journal-failure', 'amplitude']);
    expect(j.failingSession).toBe(false);
  });

  it('a failure after the end record is recorded but does not tell the session (nothing to abort)', () => {
    const { j, recorders, failures } = setup();
    j.open('S1', sessionStart());
    j.end({ reason: 'completed', finalState: 'completed', stimulationS: 1, phases: [] });
    recorders[0]!.diskFull = true;
    j.record('note', { text: 'late' });
    expect(failures).toEqual([]);
    expect(recorders[0]!.held.map((x) => x.type)).toEqual(['note', 'journal-failure']);
  });

  it('summarises telemetry once a second while the session is open, and flushes the rest before the end record', () => {
    const { s, j, recorders } = setup();
    s.advanceTo(5000);
    j.open('S1', sessionStart());
    for (let k = 1; k <= 12; k++) {
      s.advanceTo(5000 + k * 100);
      j.telemetry(tel(1, 2000, k * 10));
      j.tick();
    }
    const summaries = recorders[0]!.written.filter((r) => r.type === 'telemetry').map((r) => r.data);
    expect(summaries).toEqual([{ fromT: 5000, toT: 5000 + TELEMETRY_SUMMARY_MS, channels: [{ channel: 1, meanMa: 2, maxMa: 2, impedanceOhm: 1500, chargeUc: 0.09 }] }]);
    s.advanceTo(6500);
    j.end({ reason: 'stopped', finalState: 'stopped', stimulationS: 1.5, phases: [] });
    const types = recorders[0]!.types();
    expect(types.slice(-2)).toEqual(['telemetry', 'session-end']);
    expect(recorders[0]!.written.at(-2)!.data).toMatchObject({ fromT: 6000, toT: 6500, channels: [{ channel: 1, chargeUc: 0.12 }] });
  });

  it('charge restarts with each START: after a restart the count is added whole', () => {
    const { j } = setup();
    j.open('S1', sessionStart());
    j.telemetry(tel(1, 1000, 50));
    j.telemetry(tel(1, 1000, 80)); // 80 nC since START
    j.started(1); // paused and resumed: the device counts from 0 again
    j.telemetry(tel(1, 1000, 90)); // 90 nC since the new START, though above the last count
    expect(j.chargeUc(1)).toBe(0.17);
    j.resetTelemetry();
    expect(j.chargeUc(1)).toBe(0);
  });

  it('records commands and replies as sent, but not heartbeats, events or telemetry lines', () => {
    const { j, recorders } = setup();
    j.open('S1', sessionStart());
    j.traffic('tx', frame('7 HB'));
    j.traffic('rx', frame('7 OK HB'));
    j.traffic('tx', frame('8 AMP ch=1 amp=2000'));
    j.traffic('rx', frame('8 OK AMP ch=1 amp=2000'));
    j.traffic('rx', frame('9 ERR code=BAD_CRC'));
    j.traffic('rx', frame('TEL ch=1 amp=2000 i=1990 z=1500 q=10'));
    expect(recorders[0]!.written.slice(1)).toEqual([
      { type: 'command', data: { seq: 8, verb: 'AMP', line: frame('8 AMP ch=1 amp=2000') } },
      { type: 'ack', data: { seq: 8, verb: 'AMP', ok: true, line: frame('8 OK AMP ch=1 amp=2000') } },
      { type: 'ack', data: { seq: 9, verb: null, ok: false, code: 'BAD_CRC', line: frame('9 ERR code=BAD_CRC') } },
    ]);
    expect(recorders[0]!.types()).not.toContain('telemetry');
  });

  it('a record the recorder throws on is said, and the journal goes on', () => {
    const { j, recorders, said } = setup();
    j.open('S1', sessionStart());
    const r = recorders[0]!;
    const append = r.append.bind(r);
    r.append = (type, data) => {
      if (type === 'note') throw new Error('note: text: too long');
      append(type, data);
    };
    j.record('note', { text: 'x' });
    j.record('fault', { channel: null, code: 'WDOG', message: 'device watchdog tripped' });
    expect(said).toEqual(['note: text: too long']);
    expect(r.types()).toEqual(['session-start', 'fault']);
  });
});
