/**
 * The output sequencer on its own, on virtual time, with a device that records every frame it is
 * sent: each channel staged and started from a guard-checked program at 0 mA, the phase ending
 * exactly at its duration (not a tick early), the next phase begun with targets capped at its
 * maxMa, the last one completing at the sum, a guard refusal aborting before any frame, a stale
 * answer after an interruption starting nothing, and a failed STOP aborting (an overtaken one not).
 */
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../../src/domain/protocols/derive.js';
import type { DeviceLimits } from '../../../src/domain/stimulation.js';
import type { DeviceError } from '../../../src/device/errors.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { SessionClock } from '../../../src/session/clock.js';
import { OutputSequencer } from '../../../src/session/output-sequencer.js';
import { phaseDurationMs } from '../../../src/session/plan.js';
import type { ChannelControl } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import { TWO_CHANNEL_LIMITS } from '../../support/device-fixtures.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { kneePhases } from '../../support/short-protocol.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

const LIMITS: DeviceLimits = TWO_CHANNEL_LIMITS;

const twoPhases = (): Protocol => kneePhases([{ name: 'first', durationMin: 5, maxMa: 6 }, { name: 'second', durationMin: 10, maxMa: 4 }]);

type Answer = { ok: true; value: undefined } | { ok: false; error: DeviceError };

function setup(protocol: Protocol = kneeProtocol(), opts: { limits?: DeviceLimits; stop?: () => Answer; stageDelayMs?: number } = {}) {
  const s = new ManualScheduler();
  const clock = new SessionClock(s);
  const frames: string[] = [];
  const records: { t: number; type: string; data: unknown }[] = [];
  const aborts: string[] = [];
  const ends: { reason: string; detail: string | undefined }[] = [];
  const states: string[] = [];
  let kicks = 0;
  let monitorOff = 0;
  let state: SessionState = 'ready';
  const channels: ChannelControl[] = protocol.channels.map((c) => ({ channel: c.channel, region: c.region, side: c.side, sites: c.sites, targetMa: 5, commanded: undefined, active: undefined, on: false, measuredMa: null, impedance: null }));
  // Answers come at once, or `ms` later on the virtual clock.
  const later = <T>(value: T, ms = 0): Promise<T> => (ms === 0 ? Promise.resolve(value) : new Promise((resolve) => s.schedule(() => resolve(value), ms)));
  const seq = new OutputSequencer({
    scheduler: s,
    client: {
      info: { limits: opts.limits ?? LIMITS } as DeviceInfo,
      stage: (c) => {
        frames.push(`SET ${c.value.channel} ${c.value.amplitudeMa} ${c.value.durationS}`);
        return later({ ok: true, value: { crc: '0' } } as const, opts.stageDelayMs ?? 0);
      },
      start: (c) => {
        frames.push(`START ${c.value.channel}`);
        return later({ ok: true, value: undefined } as const);
      },
      request: ((verb: string) => {
        frames.push(verb);
        return later(opts.stop?.() ?? { ok: true, value: undefined });
      }) as never,
    },
    clock,
    monitor: { on: () => undefined, allOff: () => (monitorOff += 1) },
    journal: { record: (type, data) => records.push({ t: s.now(), type, data }), started: () => undefined },
    noteWarnings: () => undefined,
    protocol: () => protocol,
    channels: () => channels,
    state: () => state,
    enter: (to) => {
      state = to;
      states.push(to);
    },
    abort: (reason) => {
      aborts.push(reason);
      state = 'aborted';
      return Promise.resolve();
    },
    endSession: (reason, detail) => ends.push({ reason, detail }),
    kickRamp: () => (kicks += 1),
    publish: () => undefined,
  });
  /** Advance in whole ticks, letting promise chains settle between them. */
  const run = async (ms: number, step = 50): Promise<void> => {
    for (let t = 0; t < ms; t += step) {
      s.advance(Math.min(step, ms - t));
      await settle();
    }
  };
  return { s, seq, clock, frames, records, aborts, ends, states, channels, run, kicks: () => kicks, monitorOff: () => monitorOff, state: () => state };
}

describe('OutputSequencer', () => {
  it('stages and starts every channel at 0 mA for the whole phase, then hands over to the ramp once', async () => {
    const p = kneeProtocol();
    const t = setup(p);
    const begun = t.seq.begin('start');
    expect(t.seq.starting).toBe(true);
    await t.run(50);
    expect(await begun).toEqual({ ok: true, value: undefined });
    expect(t.seq.starting).toBe(false);
    const durS = phaseDurationMs(p.phases[0]!) / 1000;
    expect(t.frames).toEqual(p.channels.flatMap((c) => [`SET ${c.channel} 0 ${durS}`, `START ${c.channel}`]));
    expect(t.states).toEqual(['ramping']);
    expect(t.channels.every((c) => c.on && c.commanded?.amplitudeMa === 0 && c.active !== undefined)).toBe(true);
    expect(t.records.filter((r) => r.type === 'amplitude').map((r) => r.data)).toEqual(p.channels.map((c) => ({ channel: c.channel, targetMa: 5, commandedMa: 0, cause: 'ramp' })));
    expect(t.kicks()).toBe(1);
    expect(t.clock.running).toBe(true);
  });

  it('the phase ends exactly at its duration (not a tick early); the next begins capped at its maxMa; the last completes at the sum', async () => {
    const p = twoPhases();
    const t = setup(p);
    void t.seq.begin('start');
    await settle();
    const t0 = t.s.now();
    await t.run(5 * 60_000 - 1, 1000);
    expect(t.frames.filter((f) => f === 'STOP')).toEqual([]);
    expect(t.records.some((r) => r.type === 'phase-end')).toBe(false);
    await t.run(1, 1);
    expect(t.frames.filter((f) => f === 'STOP')).toHaveLength(1);
    expect(t.records.find((r) => r.type === 'phase-end')).toEqual({ t: t0 + 5 * 60_000, type: 'phase-end', data: { index: 0, name: 'first', atS: 300 } });
    expect(t.records.find((r) => r.type === 'phase')).toMatchObject({ data: { index: 1, name: 'second', atS: 300 } });
    expect(t.channels.map((c) => c.targetMa)).toEqual([4, 4]);
    // The second phase is staged for its whole 10 minutes.
    expect(t.frames.slice(-4)).toEqual(['SET 1 0 600', 'START 1', 'SET 2 0 600', 'START 2']);
    expect(t.states).toEqual(['ramping', 'ramping']);
    await t.run(10 * 60_000 - 1000, 1000);
    expect(t.ends).toEqual([]);
    await t.run(1000, 1);
    expect(t.states.slice(-2)).toEqual(['ramping-down', 'completed']);
    expect(t.ends).toEqual([{ reason: 'completed', detail: undefined }]);
    expect(t.clock.elapsedMs()).toBe(15 * 60_000);
  });

  it('an interruption while a stage is answered makes the answer stale: nothing is started, and the phase timer is gone', async () => {
    const t = setup(kneeProtocol(), { stageDelayMs: 100 });
    const begun = t.seq.begin('start');
    t.seq.interrupt();
    await t.run(200);
    const r = await begun;
    expect(!r.ok && r.error.code).toBe('IllegalInState');
    expect(t.frames).toEqual(['SET 1 0 1200']);
    expect(t.kicks()).toBe(0);
    expect(t.clock.running).toBe(false);
  });

  it('a program the guard refuses aborts before any frame is sent', async () => {
    const t = setup(kneeProtocol(), { limits: { ...LIMITS, frequencyHz: { min: 1, max: 1 } } });
    const r = await t.seq.begin('start');
    expect(!r.ok && r.error.code).toBe('LimitExceeded');
    expect(t.frames).toEqual([]);
    expect(t.aborts).toHaveLength(1);
    expect(t.aborts[0]).toMatch(/^the guard refused channel 1: /);
  });

  it('allOff turns every channel off (none forgotten) and interrupts', () => {
    const t = setup();
    for (const c of t.channels) c.on = true;
    const before = t.seq.epoch;
    t.seq.allOff();
    expect(t.channels.map((c) => c.on)).toEqual(t.channels.map(() => false));
    expect(t.monitorOff()).toBe(1);
    expect(t.seq.epoch).toBe(before + 1);
  });

  it('stopOutput records each channel that was on, sends one STOP, and aborts when it fails (not when an e-stop overtook it)', async () => {
    const failing = setup(kneeProtocol(), { stop: () => ({ ok: false, error: { code: 'AckTimeout', verb: 'STOP', seq: 3, attempts: 3, waitedMs: 600 } }) });
    failing.channels[0]!.on = true;
    const r = failing.seq.stopOutput('pause');
    await failing.run(50);
    expect((await r).ok).toBe(false);
    expect(failing.frames).toEqual(['STOP']);
    expect(failing.records.map((x) => x.data)).toEqual([{ channel: 1, targetMa: 5, commandedMa: 0, cause: 'pause' }]);
    expect(failing.aborts).toHaveLength(1);
    expect(failing.aborts[0]).toMatch(/^STOP failed: /);
    const overtaken = setup(kneeProtocol(), { stop: () => ({ ok: false, error: { code: 'Cancelled', verb: 'STOP', reason: 'e-stop' } }) });
    const r2 = overtaken.seq.stopOutput('stop');
    await overtaken.run(50);
    expect((await r2).ok).toBe(false);
    expect(overtaken.aborts).toEqual([]);
  });

  it('pause: the clock held and the phase timer gone at once, one STOP written; the phase does not end while paused', async () => {
    const t = setup();
    void t.seq.begin('start');
    await settle();
    await t.run(60_000, 1000);
    const r = t.seq.pause();
    expect(t.state()).toBe('paused');
    expect(t.clock.running).toBe(false);
    expect((await r).ok).toBe(true);
    expect(t.frames.filter((f) => f === 'STOP')).toHaveLength(1);
    expect(t.records.filter((x) => x.type === 'amplitude').slice(-2).map((x) => x.data)).toEqual(t.channels.map((c) => ({ channel: c.channel, targetMa: 5, commandedMa: 0, cause: 'pause' })));
    await t.run(30 * 60_000, 60_000);
    expect(t.records.some((x) => x.type === 'phase-end')).toBe(false);
    expect(t.clock.elapsedMs()).toBe(60_000);
  });

  it("the clinician's stop: STOP written, ramping-down, then stopped with the end record once it is acknowledged", async () => {
    const t = setup();
    void t.seq.begin('start');
    await t.run(1000);
    const r = t.seq.stop();
    expect(t.state()).toBe('ramping-down');
    expect(t.ends).toEqual([]);
    expect((await r).ok).toBe(true);
    expect(t.frames.at(-1)).toBe('STOP');
    expect(t.states.slice(-2)).toEqual(['ramping-down', 'stopped']);
    expect(t.ends).toEqual([{ reason: 'stopped', detail: 'stopped by the clinician' }]);
  });

  it('a stop whose STOP fails aborts instead: never "stopped", no stopped end record', async () => {
    const t = setup(kneeProtocol(), { stop: () => ({ ok: false, error: { code: 'AckTimeout', verb: 'STOP', seq: 3, attempts: 3, waitedMs: 600 } }) });
    void t.seq.begin('start');
    await t.run(1000);
    const r = await t.seq.stop();
    expect(r.ok).toBe(false);
    expect(t.aborts).toEqual([expect.stringMatching(/^STOP failed: /)]);
    expect(t.state()).toBe('aborted');
    expect(t.states).not.toContain('stopped');
    expect(t.ends).toEqual([]);
  });
});
