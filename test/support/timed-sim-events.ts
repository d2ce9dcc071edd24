/**
 * The events of a simulator process (`edn simulate --json`) with the time each arrived in this
 * process (`performance.now()`, the clock of the monotonic scheduler), for real-time tests that
 * measure between events, and the device's output per channel as its `output` events report it.
 *
 *     const sim = await startSimulator();
 *     const seen = timeSimEvents(sim);
 *     ...
 *     const watchdog = seen.events.find((e) => e.event === 'watchdog');
 *     expect(watchdog.at - killedAt).toBeLessThanOrEqual(1100);
 */
import type { SimJsonEvent, SimProcess } from './sim-process.js';

export type TimedSimEvent = SimJsonEvent & { readonly at: number };

export interface TimedSimEvents {
  /** Events in arrival order (only those that arrived after timeSimEvents was called). */
  readonly events: readonly TimedSimEvent[];
  /** The output of `channel` as the last `output` event said (off before any). */
  output(channel: number): { readonly on: boolean; readonly amplitudeMa: number };
  /** Stop listening. */
  stop(): void;
}

/** Listen to the simulator's stdout alongside SimProcess and time-stamp every JSON event. */
export function timeSimEvents(sim: SimProcess, clock: () => number = () => performance.now()): TimedSimEvents {
  const events: TimedSimEvent[] = [];
  const outputs = new Map<number, { on: boolean; amplitudeMa: number }>();
  let partial = '';
  const onData = (chunk: string | Buffer): void => {
    const at = clock();
    partial += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue; // SimProcess collects non-JSON lines (there must be none); a line cut by attaching mid-stream lands here too
      }
      if (typeof value !== 'object' || value === null || typeof (value as { event?: unknown }).event !== 'string') continue;
      const e: TimedSimEvent = { ...(value as SimJsonEvent), at };
      events.push(e);
      if (e.event === 'output' && typeof e.channel === 'number') outputs.set(e.channel, { on: e.on === true, amplitudeMa: Number(e.amplitudeMa) });
    }
  };
  const stdout = sim.child.stdout;
  if (!stdout) throw new Error(`simulator ${sim.pid} has no stdout to listen to`);
  stdout.on('data', onData);
  return {
    events,
    output: (channel) => outputs.get(channel) ?? { on: false, amplitudeMa: 0 },
    stop: () => stdout.off('data', onData),
  };
}
