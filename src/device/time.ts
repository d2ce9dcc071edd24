/**
 * Time for the host and the simulator. Every timer in the project (heartbeat, ramps, phase
 * durations, watchdogs, ack timeouts) runs on an injected rxjs `SchedulerLike`: in production the
 * monotonic scheduler below, in tests a virtual one (test/support/virtual-time.ts), so a 20-minute
 * session runs in milliseconds and its boundaries land exactly.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';

/**
 * A real-time scheduler whose `now()` is monotonic (`performance.now()`, ms since process start):
 * a wall-clock jump (NTP, daylight saving, a user changing the date) never shortens or stretches a
 * session, a ramp or a watchdog window. Scheduling is rxjs' `asyncScheduler` (relative delays).
 */
export const monotonicScheduler: SchedulerLike = {
  now: () => performance.now(),
  schedule: (work, delay, state) => asyncScheduler.schedule(work as (this: unknown, state?: unknown) => void, delay, state),
};
