/**
 * Virtual time for tests: an rxjs VirtualTimeScheduler that can be advanced by an exact amount.
 * Actions due at or before the target run in time order; afterwards `now()` is exactly the target,
 * even when nothing was due then.
 */
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';

export class ManualScheduler extends VirtualTimeScheduler {
  constructor() {
    super(VirtualAction, Infinity);
  }

  /** Run everything due up to `now() + ms`, then stand at exactly that time. */
  advance(ms: number): void {
    this.advanceTo(this.now() + ms);
  }

  /** Run everything due up to `t`, then stand at exactly `t`. */
  advanceTo(t: number): void {
    if (t < this.frame) throw new Error(`cannot go back in time from ${this.frame} to ${t}`);
    this.maxFrames = t;
    this.flush();
    this.frame = t;
    this.maxFrames = Infinity;
  }

  /** Number of actions waiting to run. */
  get pending(): number {
    return this.actions.length;
  }
}

/** Let every already-settled promise chain run (no time passes; no timers involved). */
export async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
