/**
 * What the host's frames left on at the device: read from the lines the host WROTE (the tap
 * transport), never from the simulator's state. A channel is on from its START (at the amplitude
 * its SET staged, then each AMP) until a STOP naming it (or all), an ESTOP or a new HELLO.
 */
import { decodeRequest } from '../../firmware-protocol/index.js';
import type { WrittenLine } from '../support/tap-transport.js';

/** Channel -> amplitude in µA that the frames leave on (channels left off are absent). */
export function onByFrames(written: readonly WrittenLine[]): Map<number, number> {
  const staged = new Map<number, number>();
  const on = new Map<number, number>();
  for (const w of written) {
    const d = decodeRequest(w.line);
    if (!d.ok) throw new Error(`the host wrote an invalid frame at ${w.at} ms: ${w.line}`);
    const m = d.message;
    switch (m.verb) {
      case 'SET':
        staged.set(m.args.ch, m.args.amp);
        break;
      case 'START':
        on.set(m.args.ch, staged.get(m.args.ch) ?? 0);
        break;
      case 'AMP':
        if (on.has(m.args.ch)) on.set(m.args.ch, m.args.amp);
        break;
      case 'STOP':
        if (m.args.ch === undefined) on.clear();
        else on.delete(m.args.ch);
        break;
      case 'ESTOP':
      case 'HELLO':
        on.clear();
        staged.clear();
        break;
      case 'CLEAR':
      case 'HB':
      case 'STATUS':
      case 'IMP':
        break; // no output
    }
  }
  return on;
}

/** True when some channel is on at more than 0 µA by the frames. */
export function currentByFrames(written: readonly WrittenLine[]): boolean {
  return [...onByFrames(written).values()].some((ua) => ua > 0);
}

/** Frames that could turn current on: any START, and any AMP or SET above 0 µA. */
export function turnOnFrames(written: readonly WrittenLine[]): WrittenLine[] {
  return written.filter((w) => {
    const d = decodeRequest(w.line);
    if (!d.ok) return true; // an invalid frame is never acceptable
    const m = d.message;
    return m.verb === 'START' || (m.verb === 'AMP' && m.args.amp > 0) || (m.verb === 'SET' && m.args.amp > 0);
  });
}

/** The first ESTOP or STOP the host wrote at or after `since`. */
export function firstStopFrame(written: readonly WrittenLine[], since: number): WrittenLine | undefined {
  return written.find((w) => w.at >= since && / (ESTOP|STOP)( |$)/.test(w.line));
}
