/**
 * The session integration suite, written once and run twice (after node-serialport's one suite
 * against the mock binding and against real hardware):
 *
 * - session-inprocess.test.ts: the in-process simulator over the SimulatorTransport, on virtual
 *   time (a ManualScheduler advanced in small steps);
 * - session-pty.test.ts: the real `serialport` package (SerialTransport) on a socat pseudo-terminal
 *   to the simulator running as a separate process (`edn simulate --pty --json`), on real time
 *   with the monotonic scheduler.
 *
 * A {@link HostFactory} hides the difference: how time passes (virtual `until` vs polling real time
 * with a bounded deadline; never a fixed sleep), how faults are injected (the simulator's methods
 * vs `{"fault":...}` control lines on the simulator process's stdin) and how the device's outputs
 * are observed (`sim.snapshot()` vs the simulator's JSON `output` events). The assertions are the
 * same: the session state and its reason, the device's output (off when it must be) and the
 * session journal, written by the real journal to a temporary data directory and read back with
 * readJournal (hash chain verified).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceClient, TrafficRecord } from '../../src/device/client.js';
import type { Protocol } from '../../src/domain/protocols/derive.js';
import { phaseLimits, phaseStimulation } from '../../src/domain/protocols/derive.js';
import { checkStimulation } from '../../src/domain/safety/guard.js';
import { type JournalRecord, type JournalRecordOf, type RecordType, readJournal } from '../../src/session/journal.js';
import type { SessionRunner } from '../../src/session/runner.js';
import { TERMINAL_STATES } from '../../src/session/states.js';
import { clearedFor } from '../support/session-harness.js';
import { shortProtocol } from '../support/short-protocol.js';

/** The device's output on one channel, as the device itself reports it. */
export interface DeviceOutput {
  readonly on: boolean;
  readonly amplitudeMa: number;
}

/** A simulator event (src/simulator/types.ts SimEvent), with the host time it was seen. */
export interface SeenDeviceEvent {
  readonly event: string;
  /** Host scheduler time (virtual ms, or performance.now() ms on real time). */
  readonly at: number;
  readonly [key: string]: unknown;
}

/** A host (runner + client + transport) talking to a simulated stimulator. */
export interface SessionHost {
  readonly runner: SessionRunner;
  readonly client: DeviceClient;
  /** Journals the runner opened, oldest first (real files in a temporary data directory). */
  readonly journals: readonly string[];
  /** Every simulator event seen since the host was created. */
  readonly deviceEvents: readonly SeenDeviceEvent[];
  /** Every line to and from the device, on the host's clock. */
  readonly traffic: readonly TrafficRecord[];
  /**
   * What a time measured between the host and the device may be off by, ms: 0 on virtual time;
   * on real time, pipe and pty delivery and a busy 2-core machine's scheduling.
   */
  readonly jitterMs: number;
  /**
   * How much earlier than its delay a timer may fire, as measured by now(), ms: 0 on virtual time;
   * on real time about 1 ms (libuv compares timers with a loop clock kept in whole ms), so a phase
   * of 3000 ms may end after 2999.4 ms of the monotonic clock.
   */
  readonly timerSlackMs: number;
  /** The host scheduler's time, ms. */
  now(): number;
  /** Let time pass until `predicate` holds; fail after `limitMs` (of that time) naming `what`. */
  until(predicate: () => boolean, limitMs: number, what: string): Promise<void>;
  /** Let time pass while `promise` settles; fail after `limitMs` naming `what`. */
  call<T>(promise: Promise<T>, what: string, limitMs?: number): Promise<T>;
  /** Let `ms` of time pass (only to show that something does NOT happen meanwhile). */
  elapse(ms: number, why: string): Promise<void>;
  /** Inject a fault (a spec as in src/simulator/faults.ts, e.g. `drop:2`); resolves with the host time it was applied. */
  inject(fault: string): Promise<number>;
  /** The device's present output on `channel`. */
  output(channel: number): DeviceOutput;
  /** Release the runner, client and transport (the factory's cleanup checks nothing is left). */
  dispose(): Promise<void>;
}

export interface HostFactory {
  /** Shown in the describe block, e.g. `in-process, virtual time`. */
  readonly name: string;
  create(): Promise<SessionHost>;
  /** After each test: stop and remove everything the hosts used; throw naming anything left behind. */
  cleanup(): Promise<void>;
}

const PATIENT = 'PT-0042';
const CLINICIAN = 'JD';
/** A 3 s session (whole-session scenarios). */
const SHORT = shortProtocol({ id: 'knee-oa-short', durationMin: 0.05 });
/** A 30 s session: scenarios that end the session themselves long before it would complete. */
const LONG = shortProtocol({ id: 'knee-oa-bench', durationMin: 0.5 });
const CHANNELS = SHORT.channels.map((c) => c.channel);
/** A titration of every channel that every channel took: each now targets `ma`. */
const allAt = (ma: number) => ({ ok: true, value: { targets: CHANNELS.map((channel) => ({ channel, targetMa: ma })), refused: [] } });
/** The device control tick (src/simulator, MODEL.defaultTickMs): the watchdog is checked this often. */
const DEVICE_TICK_MS = 10;
/** The device watchdog window (PROTOCOL.md): no valid frame for this long and output goes off. */
const WATCHDOG_MS = 1000;

function of<T extends RecordType>(records: readonly JournalRecord[], type: T): JournalRecordOf<T>[] {
  return records.filter((r): r is JournalRecordOf<T> => r.type === type);
}

function statesOf(records: readonly JournalRecord[]): string[] {
  return of(records, 'state').map((r) => r.data.to);
}

/** Read a journal back: every line valid, the hash chain intact, no torn line (the session closed it). */
function readBack(h: SessionHost, index = h.journals.length - 1): JournalRecord[] {
  const path = h.journals[index];
  expect(path, `journal ${index} of ${h.journals.length}`).toBeDefined();
  const read = readJournal({ path: path! });
  expect(read.problems).toEqual([]);
  expect(read.chainIntact).toBe(true);
  expect(read.truncatedTail).toBeNull();
  read.records.forEach((r, i) => expect(r.n).toBe(i));
  return [...read.records];
}

/** The session-start record names this patient, protocol version and device. */
function expectStart(records: readonly JournalRecord[], protocol: Protocol, bootId: string): void {
  expect(records[0]?.type).toBe('session-start');
  const start = of(records, 'session-start')[0]!.data;
  expect(start.patientRef).toBe(PATIENT);
  expect(start.clinician).toBe(CLINICIAN);
  expect(start.protocol).toMatchObject({ id: protocol.id, hash: protocol.hash });
  expect(start.device.bootId).toBe(bootId);
  expect(start.screening).toMatchObject({ status: 'cleared', patientRef: PATIENT, protocolId: protocol.id, protocolHash: protocol.hash });
  expect(of(records, 'session-start')).toHaveLength(1);
}

/** Every journaled command was acknowledged (same seq and verb, OK), and the journal has the ack after the command. */
function expectAllAcked(records: readonly JournalRecord[]): void {
  const acks = of(records, 'ack');
  for (const c of of(records, 'command')) {
    expect(acks.some((a) => a.data.seq === c.data.seq && a.data.verb === c.data.verb && a.data.ok && a.n > c.n), `ack of ${c.data.line} (record ${c.n})`).toBe(true);
  }
}

function amplitudes(records: readonly JournalRecord[], channel: number) {
  return of(records, 'amplitude').filter((r) => r.data.channel === channel);
}

/** Heartbeat replies received so far. */
function heartbeatAcks(h: SessionHost): number {
  return h.traffic.filter((t) => t.dir === 'rx' && / OK HB /.test(t.line)).length;
}

/** Lines sent again byte for byte after traffic index `from` (a retry reuses its seq). */
function resends(h: SessionHost, from: number): string[] {
  const seen = new Set(h.traffic.slice(0, from).filter((t) => t.dir === 'tx').map((t) => t.line));
  const again: string[] = [];
  for (const t of h.traffic.slice(from)) {
    if (t.dir !== 'tx') continue;
    if (seen.has(t.line)) again.push(t.line);
    seen.add(t.line);
  }
  return again;
}

export function sessionSuite(factory: HostFactory): void {
  describe(`a session with the simulator (${factory.name})`, () => {
    let host: SessionHost | undefined;
    async function make(): Promise<SessionHost> {
      host = await factory.create();
      return host;
    }
    afterEach(async () => {
      const h = host;
      host = undefined;
      try {
        await h?.dispose();
      } finally {
        await factory.cleanup();
      }
    });

    const outputsAt = (h: SessionHost, ma: number) => CHANNELS.every((ch) => h.output(ch).on && Math.abs(h.output(ch).amplitudeMa - ma) < 1e-9);
    const outputsOff = (h: SessionHost) => CHANNELS.every((ch) => !h.output(ch).on);
    const deviceAt = (h: SessionHost, ma: number) => h.until(() => outputsAt(h, ma), 3000, `the device's output at ${ma} mA on channels ${CHANNELS.join(', ')}`);
    const deviceOff = (h: SessionHost, limitMs = 2000) => h.until(() => outputsOff(h), limitMs, `the device's output off on channels ${CHANNELS.join(', ')}`);
    const commandedAt = (h: SessionHost, ma: number) =>
      h.until(() => h.runner.snapshot.channels.every((c) => Math.abs(c.commandedMa - ma) < 1e-9), 3000, `${ma} mA commanded on every channel`);

    /** connect, prepare, screening, electrodes, start at `targetMa`, until running with the device at the target. Returns the boot id. */
    async function begin(h: SessionHost, protocol: Protocol, targetMa: number): Promise<string> {
      const connected = await h.call(h.runner.connect(), 'the handshake');
      expect(connected).toMatchObject({ ok: true });
      expect(h.runner.prepare({ protocol, clinician: CLINICIAN })).toEqual({ ok: true, value: undefined });
      const screened = await h.call(h.runner.submitScreening(clearedFor(protocol, PATIENT)), 'screening and the electrode check');
      expect(screened).toMatchObject({ ok: true });
      expect(screened.ok && screened.value.map((e) => e.ok)).toEqual(CHANNELS.map(() => true));
      expect(h.runner.state).toBe('checking-electrodes');
      expect(outputsOff(h)).toBe(true);
      const started = await h.call(h.runner.start({ targetMa }), 'start');
      expect(started).toEqual({ ok: true, value: undefined });
      await h.until(() => h.runner.state === 'running', 5000, 'the session to reach running');
      await deviceAt(h, targetMa);
      return h.client.info!.bootId;
    }

    /** The clinician's stop, then: stopped, output off, journal ended `stopped`. */
    async function stopSession(h: SessionHost): Promise<void> {
      expect(await h.call(h.runner.stop(), 'stop')).toEqual({ ok: true, value: undefined });
      expect(h.runner.state).toBe('stopped');
      expect(h.runner.snapshot.reason).toBe('stopped by the clinician');
      await deviceOff(h);
    }

    /** A session that went through a link fault and carried on: nothing aborted, nothing alarmed. */
    function expectUndisturbed(records: readonly JournalRecord[]): void {
      expect(statesOf(records)).toEqual(['checking-electrodes', 'ramping', 'running', 'ramping-down', 'stopped']);
      expect(of(records, 'fault')).toEqual([]);
      expect(of(records, 'alarm')).toEqual([]);
      expect(of(records, 'session-end').map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'stopped', finalState: 'stopped', detail: 'stopped by the clinician' })]);
    }

    it('full session: ramps at 1 mA/s, runs its time, completes, output off, journal complete', async () => {
      const h = await make();
      const bootId = await begin(h, SHORT, 1);
      const totalS = SHORT.phases.reduce((s, p) => s + p.durationMin * 60, 0);
      expect(h.runner.snapshot.totalS).toBe(totalS);
      await h.until(() => TERMINAL_STATES.has(h.runner.state), totalS * 1000 + 5000, 'the end of the session');

      expect(h.runner.state).toBe('completed');
      expect(h.runner.snapshot.reason).toBe('protocol time elapsed');
      expect(h.runner.snapshot.elapsedS).toBeGreaterThanOrEqual(totalS - h.timerSlackMs / 1000);
      expect(h.runner.snapshot.elapsedS).toBeLessThanOrEqual(totalS + h.jitterMs / 1000);
      await deviceOff(h);
      expect(h.deviceEvents.filter((e) => ['watchdog', 'estop', 'fault'].includes(e.event) || (e.event === 'boot' && e.bootId !== bootId))).toEqual([]);

      const records = readBack(h);
      expectStart(records, SHORT, bootId);
      expect(statesOf(records)).toEqual(['checking-electrodes', 'ramping', 'running', 'ramping-down', 'completed']);
      expect(of(records, 'electrodes')[0]!.data.results.map((r) => r.ok)).toEqual([true, true]);
      expect(of(records, 'phase-end').map((r) => r.data)).toEqual([expect.objectContaining({ index: 0 })]);
      const end = of(records, 'session-end').map((r) => r.data);
      expect(end).toEqual([expect.objectContaining({ reason: 'completed', finalState: 'completed' })]);
      expect(end[0]!.stimulationS).toBeGreaterThanOrEqual(totalS - h.timerSlackMs / 1000);
      expect(end[0]!.stimulationS).toBeLessThanOrEqual(totalS + h.jitterMs / 1000);
      expect(records.at(-1)!.type).toBe('session-end');
      const verbs = new Set(of(records, 'command').map((r) => r.data.verb));
      for (const v of ['IMP', 'SET', 'START', 'AMP', 'STOP'] as const) expect(verbs).toContain(v);
      expect(verbs).not.toContain('HB');
      expectAllAcked(records);
      expect(of(records, 'telemetry').length).toBeGreaterThanOrEqual(totalS - 1);
      for (const ch of CHANNELS) {
        const amps = amplitudes(records, ch);
        expect(amps[0]!.data).toMatchObject({ commandedMa: 0, cause: 'ramp' });
        const reached = amps.find((a) => a.data.commandedMa === 1)!;
        expect(reached.data.cause).toBe('ramp');
        // 1 mA at the protocol's 1 mA/s: never sooner than 1 s after output started at 0 mA.
        expect(reached.t - amps[0]!.t).toBeGreaterThanOrEqual(1000);
        expect(Math.max(...amps.map((a) => a.data.commandedMa))).toBe(1);
        expect(amps.at(-1)!.data).toMatchObject({ commandedMa: 0, cause: 'ramp-down' });
      }
    });

    it('titration: up by 0.5 mA steps to the phase maximum, refused above it, down by 0.5 and 0.1 mA', async () => {
      const h = await make();
      const bootId = await begin(h, LONG, 1);
      expect(h.runner.titrate(0.5)).toEqual(allAt(1.5));
      await commandedAt(h, 1.5);
      await deviceAt(h, 1.5);
      expect(h.runner.titrate(0.5)).toEqual(allAt(2));
      await commandedAt(h, 2);
      await deviceAt(h, 2);
      const above = h.runner.titrate(0.1);
      expect(above).toMatchObject({ ok: false, error: { code: 'LimitExceeded', message: expect.stringMatching(/2\.1 mA is above 2 mA/) as unknown } });
      expect(h.runner.snapshot.channels.map((c) => c.targetMa)).toEqual([2, 2]);
      expect(h.runner.titrate(-0.5)).toEqual(allAt(1.5));
      expect(h.runner.titrate(-0.1)).toEqual(allAt(1.4));
      await commandedAt(h, 1.4);
      await deviceAt(h, 1.4);
      expect(h.runner.state).toBe('running');
      await stopSession(h);

      const records = readBack(h);
      expectStart(records, LONG, bootId);
      expectUndisturbed(records);
      expect(of(records, 'titration').map((r) => r.data)).toEqual([
        { channel: null, deltaMa: 0.5, targetMa: 1.5, channels: allAt(1.5).value.targets },
        { channel: null, deltaMa: 0.5, targetMa: 2, channels: allAt(2).value.targets },
        { channel: null, deltaMa: -0.5, targetMa: 1.5, channels: allAt(1.5).value.targets },
        { channel: null, deltaMa: -0.1, targetMa: 1.4, channels: allAt(1.4).value.targets },
      ]);
      expectAllAcked(records);
      for (const ch of CHANNELS) {
        const amps = amplitudes(records, ch).map((a) => a.data);
        expect(Math.max(...amps.map((a) => a.commandedMa))).toBe(2);
        expect(amps.filter((a) => a.cause === 'titration').map((a) => a.commandedMa)).toContain(2);
        expect(amps.at(-2)).toMatchObject({ commandedMa: 1.4, cause: 'titration' });
        expect(amps.at(-1)).toMatchObject({ commandedMa: 0, cause: 'stop' });
      }
    });

    it('pause and resume: output off while paused, the clock held, resumed to the same amplitude, completes on stimulation time', async () => {
      const h = await make();
      const startedAt = h.now();
      const bootId = await begin(h, SHORT, 1);
      const totalS = SHORT.phases[0]!.durationMin * 60;

      expect(await h.call(h.runner.pause(), 'pause')).toEqual({ ok: true, value: undefined });
      expect(h.runner.state).toBe('paused');
      const pausedAt = h.now();
      await deviceOff(h);
      const held = h.runner.snapshot.elapsedS;
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThan(totalS);
      const eventsAtPause = h.deviceEvents.length;
      const hb = heartbeatAcks(h);
      await h.until(() => heartbeatAcks(h) >= hb + 4, 3000, 'four heartbeats answered while paused');
      expect(h.runner.state).toBe('paused');
      expect(h.runner.snapshot.elapsedS).toBe(held);
      expect(h.runner.snapshot.phase!.elapsedS).toBe(held);
      expect(outputsOff(h)).toBe(true);
      expect(h.deviceEvents.slice(eventsAtPause).filter((e) => e.event === 'output' && e.on === true)).toEqual([]);

      const resumedAt = h.now();
      expect(await h.call(h.runner.resume(), 'resume')).toEqual({ ok: true, value: undefined });
      await h.until(() => h.runner.state === 'running', 5000, 'running again after resume');
      await deviceAt(h, 1);
      expect(h.runner.snapshot.channels.map((c) => c.targetMa)).toEqual([1, 1]);
      await h.until(() => TERMINAL_STATES.has(h.runner.state), totalS * 1000 + 5000, 'the end of the session');
      expect(h.runner.state).toBe('completed');
      await deviceOff(h);
      // Stimulation time is the protocol's; the pause is not part of it.
      expect(h.now() - startedAt).toBeGreaterThanOrEqual(totalS * 1000 + (resumedAt - pausedAt) - h.timerSlackMs);

      const records = readBack(h);
      expectStart(records, SHORT, bootId);
      expect(statesOf(records)).toEqual(['checking-electrodes', 'ramping', 'running', 'paused', 'ramping', 'running', 'ramping-down', 'completed']);
      const end = of(records, 'session-end')[0]!.data;
      expect(end).toMatchObject({ reason: 'completed', finalState: 'completed' });
      expect(end.stimulationS).toBeGreaterThanOrEqual(totalS - h.timerSlackMs / 1000);
      expect(end.stimulationS).toBeLessThanOrEqual(totalS + h.jitterMs / 1000);
      for (const ch of CHANNELS) {
        const causes = amplitudes(records, ch).map((a) => `${a.data.cause}:${a.data.commandedMa}`);
        expect(causes).toContain('pause:0');
        expect(causes).toContain('resume:0');
        expect(causes.indexOf('resume:0')).toBeGreaterThan(causes.indexOf('pause:0'));
        expect(causes.slice(causes.indexOf('resume:0'))).toContain('ramp:1');
      }
      expectAllAcked(records);
    });

    it('e-stop: output off at once, latched, START refused while latched; CLEAR, then a new session runs', async () => {
      const h = await make();
      const bootId = await begin(h, LONG, 1);
      const calledAt = h.now();
      const trafficAtStop = h.traffic.length;
      const stopping = h.runner.estop('keyboard');
      // The state follows the frame at once: no await stands between the call and `stopped`.
      expect(h.runner.state).toBe('stopped');
      expect(h.runner.snapshot.reason).toBe('emergency stop (keyboard)');
      // The ESTOP frame is the first thing written after the call.
      expect(h.traffic.slice(trafficAtStop).find((t) => t.dir === 'tx')?.line).toMatch(/^\d+ ESTOP \*[0-9A-F]{4}$/);
      expect(await h.call(stopping, 'the e-stop acknowledgement')).toEqual({ ok: true, value: undefined });
      await deviceOff(h, 500);
      const estopEvent = h.deviceEvents.find((e) => e.event === 'estop');
      expect(estopEvent).toBeDefined();
      expect(estopEvent!.at - calledAt).toBeLessThanOrEqual(h.jitterMs);
      expect(h.runner.snapshot.latched).toBe(true);
      expect(h.runner.snapshot.alarms[0]).toMatchObject({ priority: 'high', cause: 'Emergency stop by the Escape key: all output is off and latched' });
      const status = await h.call(h.client.request('STATUS', {}), 'STATUS');
      expect(status).toMatchObject({ ok: true, value: { latched: true, s1: 'OFF', s2: 'OFF' } });

      // Nothing can start while latched: not a new session, not a SET or START from the client.
      expect(h.runner.newSession()).toMatchObject({ ok: false, error: { message: 'the stop is latched: clear it first' } });
      const params = checkStimulation(phaseStimulation(LONG, 0, 1, 0), { device: h.client.info!.limits, protocol: phaseLimits(LONG, 0), electrode: LONG.electrode });
      if (!params.ok) throw new Error('the guard refused the protocol phase');
      const sentBefore = h.traffic.length;
      expect(await h.call(h.client.stage(params.checked), 'SET while latched')).toMatchObject({ ok: false, error: { code: 'Cancelled', reason: expect.stringMatching(/latched/) as unknown } });
      expect(await h.call(h.client.start(params.checked), 'START while latched')).toMatchObject({ ok: false, error: { code: 'Cancelled', reason: expect.stringMatching(/latched/) as unknown } });
      expect(h.traffic.slice(sentBefore).filter((t) => t.dir === 'tx' && / (SET|START|AMP) /.test(t.line))).toEqual([]);
      expect(outputsOff(h)).toBe(true);

      expect(await h.call(h.runner.clear(), 'CLEAR')).toEqual({ ok: true, value: undefined });
      await h.until(() => h.deviceEvents.some((e) => e.event === 'clear'), 2000, "the device's clear event");
      expect(h.runner.snapshot.latched).toBe(false);
      // "latched" goes with the latch: the alarm still names the source, and no longer asks to clear.
      expect(h.runner.snapshot.alarms.map((a) => `${a.cause} ${a.action}`).join(' ')).not.toMatch(/latched|clear the stop/i);
      expect(h.runner.snapshot.alarms[0]?.cause).toContain('the Escape key');
      expect(await h.call(h.client.request('STATUS', {}), 'STATUS')).toMatchObject({ ok: true, value: { latched: false } });
      expect(outputsOff(h)).toBe(true);

      expect(h.runner.newSession()).toEqual({ ok: true, value: undefined });
      expect(h.runner.state).toBe('ready');
      expect(h.runner.prepare({ protocol: LONG, clinician: CLINICIAN })).toEqual({ ok: true, value: undefined });
      expect(await h.call(h.runner.submitScreening(clearedFor(LONG, PATIENT)), 'screening again')).toMatchObject({ ok: true });
      expect(await h.call(h.runner.start({ targetMa: 1 }), 'start again')).toEqual({ ok: true, value: undefined });
      await h.until(() => h.runner.state === 'running', 5000, 'the new session to reach running');
      await deviceAt(h, 1);
      await stopSession(h);

      expect(h.journals).toHaveLength(2);
      const first = readBack(h, 0);
      expectStart(first, LONG, bootId);
      expect(statesOf(first)).toEqual(['checking-electrodes', 'ramping', 'running', 'stopped']);
      expect(of(first, 'state').at(-1)!.data.reason).toBe('emergency stop (keyboard)');
      expect(of(first, 'estop').map((r) => r.data)[0]).toEqual({ source: 'keyboard', acked: false });
      expect(of(first, 'command').some((c) => c.data.verb === 'ESTOP')).toBe(true);
      expect(of(first, 'session-end').map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'stopped', finalState: 'stopped', detail: 'emergency stop (keyboard)' })]);
      const second = readBack(h, 1);
      expectStart(second, LONG, bootId);
      expect(statesOf(second)).toEqual(['checking-electrodes', 'ramping', 'running', 'ramping-down', 'stopped']);
    });

    it("e-stop: the device's confirmation is journaled before the session's end record", async () => {
      // (Found by this suite: the runner used to end the session first, so the confirmation went nowhere.)
      const h = await make();
      await begin(h, LONG, 1);
      expect(await h.call(h.runner.estop('test'), 'the e-stop acknowledgement')).toEqual({ ok: true, value: undefined });
      await deviceOff(h, 500);
      const records = readBack(h);
      const types = records.map((r) => r.type);
      expect(of(records, 'estop').map((r) => r.data)).toEqual([
        { source: 'test', acked: false },
        { source: 'test', acked: true },
      ]);
      const estopCommand = of(records, 'command').find((c) => c.data.verb === 'ESTOP')!;
      const estopAck = of(records, 'ack').find((a) => a.data.verb === 'ESTOP' && a.data.seq === estopCommand.data.seq)!;
      expect(estopAck.n).toBeGreaterThan(estopCommand.n);
      expect(types.lastIndexOf('estop')).toBeLessThan(types.indexOf('session-end'));
      expect(records.at(-1)!.data).toMatchObject({ reason: 'stopped', detail: 'emergency stop (test)' });
    });

    it('cable pull mid-session: the link goes silent, telemetry and heartbeats stop, the session aborts; the device watchdog switches output off within 1000 ms of the last frame', async () => {
      const h = await make();
      const bootId = await begin(h, LONG, 1);
      const eventsBefore = h.deviceEvents.length;
      const pulledAt = await h.inject('cable-pull');
      const lastFrameAt = Math.max(...h.traffic.filter((t) => t.dir === 'tx' && t.atMs <= pulledAt).map((t) => t.atMs));

      await h.until(() => h.deviceEvents.some((e) => e.event === 'watchdog'), 3000, "the device's watchdog");
      await deviceOff(h);
      const since = h.deviceEvents.slice(eventsBefore);
      const watchdogAt = since.find((e) => e.event === 'watchdog')!.at;
      expect(watchdogAt).toBeGreaterThan(pulledAt);
      expect(watchdogAt - lastFrameAt).toBeLessThanOrEqual(WATCHDOG_MS + DEVICE_TICK_MS + h.jitterMs);
      // The watchdog, nothing else, switched the output off.
      expect(since.filter((e) => ['estop', 'fault', 'done', 'boot'].includes(e.event))).toEqual([]);
      const offs = since.filter((e) => e.event === 'output' && e.on === false);
      expect(offs.map((e) => e.channel).sort()).toEqual(CHANNELS);
      for (const off of offs) expect(off.at).toBeGreaterThanOrEqual(watchdogAt);

      await h.until(() => h.runner.state === 'aborted', 3000, 'the session to abort');
      // Whichever the host notices first: telemetry silent for 3 periods (output-monitor.ts) or the
      // heartbeat's retries exhausted; both name the silence.
      expect(h.runner.snapshot.reason).toMatch(
        /^(the device stopped answering heartbeats \(HB \(seq \d+\) got no reply after 4 attempts over 800 ms\)|Channel \d: no telemetry from the device for \d+ ms while output is on \(the link to the device or its output stage is lost\): .+)$/,
      );
      expect(h.runner.snapshot.alarms[0]).toMatchObject({ priority: 'high' });
      expect(h.runner.snapshot.reason!.startsWith(h.runner.snapshot.alarms[0]!.cause)).toBe(true);
      expect(h.runner.snapshot.channels.every((c) => !c.on)).toBe(true);

      const records = readBack(h);
      expectStart(records, LONG, bootId);
      expect(statesOf(records)).toEqual(['checking-electrodes', 'ramping', 'running', 'aborted']);
      expect(of(records, 'session-end').map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'aborted', finalState: 'aborted', detail: h.runner.snapshot.reason })]);
      expect(of(records, 'alarm').map((r) => r.data.priority)).toEqual(['high']);
      // The host tried to e-stop the device it could no longer reach.
      expect(of(records, 'command').some((c) => c.data.verb === 'ESTOP')).toBe(true);
    });

    it('device reboot mid-session: the session aborts, output is off and nothing resumes', async () => {
      const h = await make();
      const bootId = await begin(h, LONG, 1);
      const eventsBefore = h.deviceEvents.length;
      await h.inject('reboot');
      await h.until(() => h.runner.state === 'aborted', 2000, 'the session to abort');
      // The BOOT line on the wire may reach the host before the simulator's own `boot` event.
      await h.until(() => h.deviceEvents.slice(eventsBefore).some((e) => e.event === 'boot'), 2000, "the simulator's boot event");
      const boot = h.deviceEvents.slice(eventsBefore).find((e) => e.event === 'boot');
      expect(boot!.bootId).not.toBe(bootId);
      expect(h.runner.snapshot.reason).toBe(`device restarted (boot id ${bootId} -> ${String(boot!.bootId)}); output is off and nothing resumes automatically`);
      expect(h.client.failure).toMatchObject({ code: 'Rebooted', previousBootId: bootId, bootId: boot!.bootId });
      await deviceOff(h);

      await h.elapse(1500, 'nothing may switch output on again after the reboot');
      expect(h.runner.state).toBe('aborted');
      expect(outputsOff(h)).toBe(true);
      expect(h.deviceEvents.slice(eventsBefore).filter((e) => e.event === 'output' && e.on === true)).toEqual([]);
      const status = await h.call(h.client.request('STATUS', {}), 'STATUS after the reboot');
      expect(status).toMatchObject({ ok: true, value: { boot: boot!.bootId, s1: 'OFF', s2: 'OFF' } });
      expect(await h.call(h.runner.start({ targetMa: 1 }), 'start after the abort')).toMatchObject({ ok: false, error: { code: 'IllegalInState' } });

      const records = readBack(h);
      expectStart(records, LONG, bootId);
      expect(statesOf(records)).toEqual(['checking-electrodes', 'ramping', 'running', 'aborted']);
      expect(of(records, 'session-end').map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'aborted', finalState: 'aborted', detail: h.runner.snapshot.reason })]);
    });

    it('dropped acks: the requests are re-sent with their seq and the session carries on', async () => {
      const h = await make();
      const bootId = await begin(h, LONG, 1);
      const from = h.traffic.length;
      await h.inject('drop:2');
      expect(h.runner.titrate(0.5)).toEqual(allAt(1.5));
      await commandedAt(h, 1.5);
      await deviceAt(h, 1.5);
      const hb = heartbeatAcks(h);
      await h.until(() => heartbeatAcks(h) >= hb + 4, 3000, 'four more heartbeats answered');
      expect(resends(h, from).length).toBeGreaterThanOrEqual(2);
      expect(h.runner.state).toBe('running');
      await stopSession(h);

      const records = readBack(h);
      expectStart(records, LONG, bootId);
      expectUndisturbed(records);
      expectAllAcked(records);
    });

    it('corrupted lines: each is counted and dropped, and the session carries on', async () => {
      const h = await make();
      const bootId = await begin(h, LONG, 1);
      const rejected = h.client.counters.rejected;
      await h.inject('corrupt:3');
      await h.until(() => h.client.counters.rejected >= rejected + 3, 3000, 'three corrupted lines rejected');
      expect(h.runner.titrate(0.5)).toEqual(allAt(1.5));
      await commandedAt(h, 1.5);
      await deviceAt(h, 1.5);
      const hb = heartbeatAcks(h);
      await h.until(() => heartbeatAcks(h) >= hb + 4, 3000, 'four more heartbeats answered');
      expect(h.client.counters.rejected).toBe(rejected + 3);
      expect(h.runner.state).toBe('running');
      await stopSession(h);

      const records = readBack(h);
      expectStart(records, LONG, bootId);
      expectUndisturbed(records);
      expectAllAcked(records);
    });

    it('garbage flood: 20 kB of random bytes are discarded and the session carries on', async () => {
      const h = await make();
      const bootId = await begin(h, LONG, 1);
      const rejected = h.client.counters.rejected;
      await h.inject('garbage:20000');
      await h.until(() => h.client.counters.rejected > rejected, 3000, 'garbage rejected');
      expect(h.runner.titrate(0.5)).toEqual(allAt(1.5));
      await commandedAt(h, 1.5);
      await deviceAt(h, 1.5);
      const hb = heartbeatAcks(h);
      await h.until(() => heartbeatAcks(h) >= hb + 4, 3000, 'four more heartbeats answered');
      expect(h.runner.state).toBe('running');
      await stopSession(h);

      const records = readBack(h);
      expectStart(records, LONG, bootId);
      expectUndisturbed(records);
      expectAllAcked(records);
    });
  });
}
