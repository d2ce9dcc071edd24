/**
 * A transport opener that reports the moment every HB and ESTOP frame is handed to the device's
 * port (benchmark only: test/bench/worker.ts, in this process or in the benchmark's controller
 * entry). The time is taken before the write, as the other benches do (estop-host.ts, timing.ts):
 * it is when the frame leaves the host for the device.
 */
import type { SchedulerLike } from 'rxjs';
import { type OpenedTransport, openTransport } from '../../src/device/open.js';

export type TappedVerb = 'HB' | 'ESTOP';
/** Also tapped in the controller process: an estop call arriving there (before it is served). */
export type TappedEvent = TappedVerb | 'ESTOP-IN';

/**
 * Wall-clock milliseconds with sub-ms resolution, comparable across processes of one machine
 * (performance.timeOrigin is the process's start on the system clock).
 */
export const wallNow = (): number => performance.timeOrigin + performance.now();

const VERB = /^\d+ (HB|ESTOP)( |$)/;

export function instrumentedOpen(tap: (verb: TappedVerb, at: number) => void): (path: string, scheduler: SchedulerLike) => Promise<OpenedTransport> {
  return async (path, scheduler) => {
    const opened = await openTransport(path, scheduler);
    const t = opened.transport;
    const write = t.write.bind(t);
    t.write = (line: string) => {
      const at = wallNow();
      const verb = VERB.exec(line)?.[1] as TappedVerb | undefined;
      write(line);
      if (verb) tap(verb, at);
    };
    return opened;
  };
}
