/**
 * The mutants left alive in output-sequencer.ts by its own test (MUTATION.md, the session group),
 * killed through the part's context on virtual time, by what reached the (fake) device, the
 * states entered (with their reasons), the aborts and the records: a fresh sequencer is not
 * starting; no device refuses before anything is sent; a stale stage answer of a begin overtaken
 * by a pause and a resume starts nothing (the epoch only ever grows); an interruption while a
 * START is answered leaves that channel off and unrecorded; a refused SET is never STARTed; a
 * withdrawn (Cancelled) stage or start does not abort, any other failure does; the guard's refusal names every violation; a
 * resume is recorded as one; the phase hand-over's reason; every channel off after a STOP,
 * including one that was commanded above 0 mA without being on; the last phase's end does not
 * complete a session that something else ended meanwhile; a failed STOP between phases begins
 * no next phase.
 */
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../../src/domain/protocols/derive.js';
import type { DeviceLimits } from '../../../src/domain/stimulation.js';
import type { DeviceError } from '../../../src/device/errors.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { SessionClock } from '../../../src/session/clock.js';
import { OutputSequencer } from '../../../src/session/output-sequencer.js';
import type { ChannelControl } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import { TWO_CHANNEL_LIMITS } from '../../support/device-fixtures.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { kneePhases } from '../../support/short-protocol.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

const twoPhases = (): Protocol => kneePhases([{ name: 'first', durationMin: 5, maxMa: 6 }, { name: 'second', durationMin: 10, maxMa: 4 }]);

type Answer = { ok: true; value: undefined } | { ok: false; error: DeviceError };
const OK: Answer = { ok: true, value: undefined };
const TIMEOUT: DeviceError = { code: 'AckTimeout', verb: 'SET', seq: 3, attempts: 3, waitedMs: 600 };
const WITHDRAWN: DeviceError = { code: 'Cancelled', verb: 'SET', reason: 'e-stop' };

interface Options {
  protocol?: Protocol;
  limits?: DeviceLimits;
  connected?: boolean;
  /** The answer to a SET, START or STOP (all answered at once unless a delay is given). */
  stage?: () => Answer;
  start?: () => Answer;
  stop?: () => Answer;
  stageDelayMs?: number;
  startDelayMs?: number;
  /** STOPs are left unanswered until `answerStops` (default: answered at once). */
  holdStops?: boolean;
}

function setup(opts: Options = {}) {
  const protocol = opts.protocol ?? kneeProtocol();
  const s = new ManualScheduler();
  const clock = new SessionClock(s);
  const frames: string[] = [];
  const records: { type: string; data: unknown }[] = [];
  const aborts: string[] = [];
  const ends: { reason: string; detail: string | undefined }[] = [];
  /** Each state entered, with its reason. */
  const states: string[] = [];
  const heldStops: ((a: Answer) => void)[] = [];
  let state: SessionState = 'ready';
  const channels: ChannelControl[] = protocol.channels.map((c) => ({ channel: c.channel, region: c.region, side: c.side, sites: c.sites, targetMa: 5, commanded: undefined, active: undefined, on: false, measuredMa: null, impedance: null }));
  const later = <T>(value: T, ms = 0): Promise<T> => (ms === 0 ? Promise.resolve(value) : new Promise((resolve) => s.schedule(() => resolve(value), ms)));
  const seq = new OutputSequencer({
    scheduler: s,
    client: {
      info: opts.connected === false ? undefined : ({ limits: opts.limits ?? TWO_CHANNEL_LIMITS } as DeviceInfo),
      stage: (c) => {
        frames.push(`SET ${c.value.channel} ${c.value.amplitudeMa} ${c.value.durationS}`);
        const a = opts.stage?.() ?? OK;
        return later(a.ok ? ({ ok: true, value: { crc: '0' } } as const) : a, opts.stageDelayMs ?? 0);
      },
      start: (c) => {
        frames.push(`START ${c.value.channel}`);
        return later(opts.start?.() ?? OK, opts.startDelayMs ?? 0);
      },
      request: ((verb: string) => {
        frames.push(verb);
        if (opts.holdStops) return new Promise<Answer>((resolve) => heldStops.push(resolve));
        return later(opts.stop?.() ?? OK);
      }) as never,
    },
    clock,
    monitor: { on: () => undefined, allOff: () => undefined },
    journal: { record: (type, data) => records.push({ type, data }), started: () => undefined },
    noteWarnings: () => undefined,
    protocol: () => protocol,
    channels: () => channels,
    state: () => state,
    enter: (to, reason) => {
      state = to;
      states.push(`${to}: ${String(reason)}`);
    },
    abort: (reason) => {
      aborts.push(reason);
      state = 'aborted';
      return Promise.resolve();
    },
    endSession: (reason, detail) => ends.push({ reason, detail }),
    kickRamp: () => undefined,
    publish: () => undefined,
  });
  const run = async (ms: number, step = 50): Promise<void> => {
    for (let t = 0; t < ms; t += step) {
      s.advance(Math.min(step, ms - t));
      await settle();
    }
  };
  return {
    s,
    seq,
    clock,
    frames,
    records,
    aborts,
    ends,
    states,
    channels,
    run,
    state: () => state,
    setState: (v: SessionState) => (state = v),
    answerStops: (a: Answer) => heldStops.splice(0).forEach((f) => f(a)),
  };
}

const amplitudes = (t: ReturnType<typeof setup>) => t.records.filter((r) => r.type === 'amplitude').map((r) => r.data);

describe('OutputSequencer.begin, mutation survivors', () => {
  it('a fresh sequencer is not starting (the ramp is not held back before any begin)', () => {
    expect(setup().seq.starting).toBe(false);
  });

  it('no device: refused as NotConnected before anything is sent, entered or counted', async () => {
    const t = setup({ connected: false });
    const r = await t.seq.begin('start');
    expect(r).toStrictEqual({ ok: false, error: { code: 'NotConnected', message: 'the device is not connected' } });
    expect(t.frames).toStrictEqual([]);
    expect(t.states).toStrictEqual([]);
    expect(t.seq.epoch).toBe(0);
    expect(t.seq.starting).toBe(false);
  });

  it('H5 a stage answered after a pause and a resume is stale: only the resume starts output (the epoch only grows)', async () => {
    const t = setup({ stageDelayMs: 100 });
    const first = t.seq.begin('start');
    expect(t.seq.epoch).toBe(1);
    const paused = t.seq.pause();
    expect(t.seq.epoch).toBe(2);
    await settle();
    expect((await paused).ok).toBe(true);
    const resumed = t.seq.begin('resume');
    expect(t.seq.epoch).toBe(3);
    await t.run(400);
    expect(await first).toStrictEqual({ ok: false, error: { code: 'IllegalInState', action: 'start', state: 'ramping', message: 'cannot start while ramping' } });
    expect(await resumed).toStrictEqual({ ok: true, value: undefined });
    expect(t.frames).toStrictEqual(['SET 1 0 1200', 'STOP', 'SET 1 0 1200', 'START 1', 'SET 2 0 1200', 'START 2']);
  });

  it('H5 an interruption while a START is answered: that channel stays off, unrecorded, and no other channel is staged', async () => {
    const t = setup({ startDelayMs: 100 });
    const begun = t.seq.begin('start');
    await settle();
    expect(t.frames).toStrictEqual(['SET 1 0 1200', 'START 1']);
    t.seq.interrupt();
    await t.run(200);
    expect(await begun).toStrictEqual({ ok: false, error: { code: 'IllegalInState', action: 'start', state: 'ramping', message: 'cannot start while ramping' } });
    expect(t.frames).toStrictEqual(['SET 1 0 1200', 'START 1']);
    expect(t.channels.map((c) => [c.on, c.active])).toStrictEqual([
      [false, undefined],
      [false, undefined],
    ]);
    expect(amplitudes(t)).toStrictEqual([]);
    expect(t.clock.running).toBe(false);
  });

  it('H5 a stage or start withdrawn by an e-stop (Cancelled) is returned without an abort, a failed SET is not STARTed; a timed-out one aborts naming it', async () => {
    for (const which of ['stage', 'start'] as const) {
      const withdrawn = setup({ [which]: () => ({ ok: false, error: WITHDRAWN }) });
      const r = await withdrawn.seq.begin('start');
      expect(!r.ok && r.error).toStrictEqual({ code: 'Device', error: WITHDRAWN, message: 'SET withdrawn: e-stop' });
      expect(withdrawn.aborts).toStrictEqual([]);
      expect(withdrawn.state()).toBe('ramping');
      // A refused SET is never followed by its START; nothing after a refused START.
      expect(withdrawn.frames).toStrictEqual(which === 'stage' ? ['SET 1 0 1200'] : ['SET 1 0 1200', 'START 1']);
      expect(withdrawn.channels.map((c) => c.on)).toStrictEqual([false, false]);
      const failed = setup({ [which]: () => ({ ok: false, error: TIMEOUT }) });
      const f = await failed.seq.begin('start');
      expect(!f.ok && f.error.code).toBe('Device');
      expect(failed.aborts).toStrictEqual(['SET (seq 3) got no reply after 3 attempts over 600 ms']);
      expect(failed.state()).toBe('aborted');
    }
  });

  it('H1 a guard refusal names every violation, joined, in the abort and in the refusal; nothing is sent', async () => {
    const t = setup({ limits: { ...TWO_CHANNEL_LIMITS, frequencyHz: { min: 1, max: 1 }, pulseWidthUs: { min: 50, max: 100 } } });
    const r = await t.seq.begin('start');
    const why = '2 Hz is above the 1 Hz maximum frequency (allowed 1-1 Hz) of this device [device HELLO]; 250 µs is above the 100 µs maximum pulse width per phase (allowed 50-100 µs) of this device [device HELLO]';
    expect(t.aborts).toStrictEqual([`the guard refused channel 1: ${why}`]);
    expect(!r.ok && r.error.message).toBe(`refused by the guard: ${why}`);
    expect(t.frames).toStrictEqual([]);
  });

  it('a resume is recorded as one (not as a ramp), and entering ramping gives no reason on a start or a resume', async () => {
    const t = setup();
    await t.seq.begin('start');
    await t.seq.pause();
    await t.seq.begin('resume');
    expect(t.states).toStrictEqual(['ramping: undefined', 'paused: undefined', 'ramping: undefined']);
    expect(amplitudes(t).map((a) => (a as { cause: string }).cause)).toStrictEqual(['ramp', 'ramp', 'pause', 'pause', 'resume', 'resume']);
  });
});

describe('OutputSequencer.stopOutput, mutation survivors', () => {
  it('H5 every channel is off after a STOP; one commanded above 0 mA but not on is recorded too, one at 0 mA and off is not', async () => {
    const t = setup();
    t.channels[0]!.commanded = { amplitudeMa: 2, atMs: 0 };
    t.channels[1]!.commanded = { amplitudeMa: 0, atMs: 0 };
    const r = await t.seq.stopOutput('pause');
    expect(r).toStrictEqual({ ok: true, value: undefined });
    expect(t.frames).toStrictEqual(['STOP']);
    expect(amplitudes(t)).toStrictEqual([{ channel: 1, targetMa: 5, commandedMa: 0, cause: 'pause' }]);
    expect(t.channels.map((c) => [c.on, c.commanded, c.active])).toStrictEqual([
      [false, undefined, undefined],
      [false, undefined, undefined],
    ]);
  });
});

describe('OutputSequencer phase end, mutation survivors', () => {
  it('H12 the next phase is entered with its name as the reason', async () => {
    const t = setup({ protocol: twoPhases() });
    await t.seq.begin('start');
    await t.run(5 * 60_000, 1000);
    expect(t.states).toStrictEqual(['ramping: undefined', "ramping: phase 'second'"]);
    expect(t.frames.slice(-5)).toStrictEqual(['STOP', 'SET 1 0 600', 'START 1', 'SET 2 0 600', 'START 2']);
  });

  it('H12 a STOP that fails between phases aborts and begins no next phase: no SET after it, no phase record', async () => {
    const t = setup({ protocol: twoPhases(), stop: () => ({ ok: false, error: { ...TIMEOUT, verb: 'STOP' } }) });
    await t.seq.begin('start');
    await t.run(5 * 60_000 + 1000, 1000);
    expect(t.frames).toStrictEqual(['SET 1 0 300', 'START 1', 'SET 2 0 300', 'START 2', 'STOP']);
    expect(t.aborts).toHaveLength(1);
    expect(t.records.map((r) => r.type).filter((x) => x !== 'amplitude')).toStrictEqual(['phase-end']);
    expect(t.clock.phaseIndex).toBe(0);
  });

  it('H12 the last phase ends with a STOP; a session ended by something else while it was answered is not completed', async () => {
    const t = setup({ holdStops: true });
    await t.seq.begin('start');
    await t.run(20 * 60_000, 1000);
    expect(t.frames.at(-1)).toBe('STOP');
    expect(t.state()).toBe('ramping-down');
    t.setState('stopped'); // an e-stop overtook the ramp-down
    t.answerStops(OK);
    await t.run(1000);
    expect(t.states).toStrictEqual(['ramping: undefined', 'ramping-down: protocol time elapsed']);
    expect(t.ends).toStrictEqual([]);
    expect(t.state()).toBe('stopped');
  });

  it('H12 the last phase ends with a STOP; acknowledged, the session completes', async () => {
    const t = setup({ holdStops: true });
    await t.seq.begin('start');
    await t.run(20 * 60_000, 1000);
    t.answerStops(OK);
    await settle();
    expect(t.states.slice(-2)).toStrictEqual(['ramping-down: protocol time elapsed', 'completed: protocol time elapsed']);
    expect(t.ends).toStrictEqual([{ reason: 'completed', detail: undefined }]);
  });
});
