/**
 * The session loop on its own, on virtual time: ticks on a fixed grid (origin + k x TICK_MS), a heartbeat on the first tick and then every HEARTBEAT_MS, none
 * while unhealthy, and an unanswered or refused heartbeat reported in words (a cancelled one, or a
 * lost session the client reports itself, is not).
 */
import { describe, expect, it } from 'vitest';
import type { DeviceError } from '../../../src/device/errors.js';
import { HEARTBEAT_MS, SessionLoop, TICK_MS } from '../../../src/session/session-loop.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

function setup(answer: () => { ok: true } | { ok: false; error: DeviceError } = () => ({ ok: true })) {
  const s = new ManualScheduler();
  const ticks: number[] = [];
  const beats: number[] = [];
  const failures: string[] = [];
  let healthy = true;
  const loop = new SessionLoop({
    scheduler: s,
    heartbeat: () => {
      beats.push(s.now());
      return Promise.resolve(answer());
    },
    healthy: () => healthy,
    onTick: (now) => ticks.push(now),
    onHeartbeatFailure: (reason) => failures.push(reason),
  });
  return { s, loop, ticks, beats, failures, setHealthy: (h: boolean) => (healthy = h) };
}

describe('SessionLoop', () => {
  it('ticks every TICK_MS from its start, and not after stop', () => {
    const { s, loop, ticks } = setup();
    s.advance(7);
    loop.start();
    expect(loop.running).toBe(true);
    s.advance(TICK_MS - 1);
    expect(ticks).toEqual([]);
    s.advance(1);
    s.advance(2 * TICK_MS);
    expect(ticks).toEqual([7 + TICK_MS, 7 + 2 * TICK_MS, 7 + 3 * TICK_MS]);
    loop.stop();
    expect(loop.running).toBe(false);
    s.advance(10 * TICK_MS);
    expect(ticks).toHaveLength(3);
  });

  it('the first tick carries a heartbeat, then one every HEARTBEAT_MS (never one a tick early)', async () => {
    const { s, loop, beats } = setup();
    loop.start();
    s.advance(TICK_MS);
    expect(beats).toEqual([TICK_MS]);
    s.advance(HEARTBEAT_MS - TICK_MS);
    expect(beats).toEqual([TICK_MS]);
    s.advance(TICK_MS);
    expect(beats).toEqual([TICK_MS, TICK_MS + HEARTBEAT_MS]);
    s.advance(4 * HEARTBEAT_MS);
    expect(beats).toHaveLength(6);
    for (let i = 1; i < beats.length; i++) expect(beats[i]! - beats[i - 1]!).toBe(HEARTBEAT_MS);
    await settle();
  });

  it('no heartbeat while unhealthy, yet the tick goes on; healthy again, the next tick sends one', () => {
    const { s, loop, beats, ticks, setHealthy } = setup();
    loop.start();
    s.advance(TICK_MS);
    setHealthy(false);
    s.advance(5 * HEARTBEAT_MS);
    expect(beats).toEqual([TICK_MS]);
    expect(ticks.length).toBe(1 + (5 * HEARTBEAT_MS) / TICK_MS);
    setHealthy(true);
    s.advance(TICK_MS);
    expect(beats).toEqual([TICK_MS, TICK_MS + 5 * HEARTBEAT_MS + TICK_MS]);
  });

  it('a restart sends a heartbeat on its first tick again', () => {
    const { s, loop, beats } = setup();
    loop.start();
    s.advance(TICK_MS);
    loop.start();
    s.advance(TICK_MS);
    expect(beats).toEqual([TICK_MS, 2 * TICK_MS]);
  });

  it('H22 H4 an unanswered heartbeat and a refused one are reported in these words; a cancelled one and a lost session are not', async () => {
    const errors: DeviceError[] = [
      { code: 'AckTimeout', verb: 'HB', seq: 1, attempts: 3, waitedMs: 600 },
      { code: 'Cancelled', verb: 'HB', reason: 'an e-stop overtook it' },
      { code: 'SessionLost', verb: 'HB', detail: 'NO_HELLO' },
      { code: 'DeviceRejected', verb: 'HB', seq: 4, deviceCode: 'STATE' },
    ];
    let i = 0;
    const { s, loop, failures } = setup(() => ({ ok: false, error: errors[i++]! }));
    loop.start();
    for (let k = 0; k < errors.length; k++) {
      s.advance(k === 0 ? TICK_MS : HEARTBEAT_MS);
      await settle();
    }
    expect(i).toBe(errors.length);
    // word for word: a lost session (its own abort and new HELLO) must not also be said here
    expect(failures).toStrictEqual(['the device stopped answering heartbeats (HB (seq 1) got no reply after 3 attempts over 600 ms)', 'the device refused a heartbeat (device refused HB: STATE)']);
  });
});
