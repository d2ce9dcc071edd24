/**
 * The mutants left alive in session-loop.ts by its own test (MUTATION.md, the session group): a
 * tick that fires exactly half a tick early still carries its heartbeat (one more than half a
 * tick early does not), on a scheduler whose timers the test fires when it likes. Which heartbeat
 * failures end the session, word for word, is asserted in session-loop.test.ts.
 */
import { type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_MS, SessionLoop, TICK_MS } from '../../../src/session/session-loop.js';
import { settle } from '../../support/virtual-time.js';

/** A scheduler whose one pending timer the test fires at a time of its choosing (early, late). */
class HandScheduler implements SchedulerLike {
  #t = 0;
  #pending: { run: () => void; due: number }[] = [];

  now(): number {
    return this.#t;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    const item = { run: () => work.call(undefined as never, state), due: this.#t + delay };
    this.#pending.push(item);
    return new Subscription(() => {
      this.#pending = this.#pending.filter((p) => p !== item);
    });
  }

  /** When the next timer is due. */
  get due(): number {
    return this.#pending[0]!.due;
  }

  /** Fire the next timer at `t` (which may be before it is due). */
  fireAt(t: number): void {
    const item = this.#pending.shift()!;
    this.#t = t;
    item.run();
  }
}

function handLoop() {
  const s = new HandScheduler();
  const beats: number[] = [];
  const loop = new SessionLoop({
    scheduler: s,
    heartbeat: () => {
      beats.push(s.now());
      return Promise.resolve({ ok: true });
    },
    healthy: () => true,
    onTick: () => undefined,
    onHeartbeatFailure: () => undefined,
  });
  return { s, loop, beats };
}

describe('H4 SessionLoop, mutation survivors', () => {
  it('H4 a tick fired exactly half a tick early still carries its heartbeat', async () => {
    const { s, loop, beats } = handLoop();
    loop.start();
    s.fireAt(s.due); // the first tick: a heartbeat
    while (s.due < TICK_MS + HEARTBEAT_MS) s.fireAt(s.due);
    expect(beats).toStrictEqual([TICK_MS]);
    expect(s.due).toBe(TICK_MS + HEARTBEAT_MS);
    s.fireAt(TICK_MS + HEARTBEAT_MS - TICK_MS / 2);
    expect(beats).toStrictEqual([TICK_MS, TICK_MS + HEARTBEAT_MS - TICK_MS / 2]);
    loop.stop();
    await settle();
  });

  it('H4 a tick fired more than half a tick early waits for the next one', async () => {
    const { s, loop, beats } = handLoop();
    loop.start();
    s.fireAt(s.due);
    while (s.due < TICK_MS + HEARTBEAT_MS) s.fireAt(s.due);
    s.fireAt(TICK_MS + HEARTBEAT_MS - TICK_MS / 2 - 1);
    expect(beats).toStrictEqual([TICK_MS]);
    s.fireAt(s.due);
    expect(beats).toStrictEqual([TICK_MS, 2 * TICK_MS + HEARTBEAT_MS]);
    loop.stop();
    await settle();
  });

});
