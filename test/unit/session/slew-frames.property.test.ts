/**
 * H19 (slew bypass): the commanded amplitude, as the host WROTE it to the device, never rises
 * faster than the ramp over any window: for every channel and all t1 < t2,
 *   A(t2) - A(t1) <= rate x (t2 - t1) + one ramp step (rate x amplitudeRiseWindowMs),
 * whatever the timing of the calls. The device here applies every amplitude at once (it does not
 * slew on its own), so nothing but the host's ramp stands between a titration and the patient;
 * and the check reads the frames the host wrote, not what the simulator delivered.
 *
 * Found by adversarial testing: after 17 s at 2 mA, sixteen quick +0.5 mA titrations made the host
 * send one frame `AMP ch=2 amp=10000` (the guard counted the whole hold as rise allowance).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRequest } from '../../../firmware-protocol/index.js';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import { harness } from '../../support/session-harness.js';
import type { WrittenLine } from '../../support/tap-transport.js';
import { sized } from '../../reliability/mode.js';

const RATE_MA_PER_S = HARD_LIMITS.amplitudeRiseMaxMaPerS.value;
const STEP_MA = (RATE_MA_PER_S * HARD_LIMITS.amplitudeRiseWindowMs.value) / 1000;
/** Wire resolution is 1 µA; float noise in the comparison stays far below it. */
const EPS_MA = 1e-6;

interface Commanded {
  readonly at: number;
  readonly ma: number;
}

/** The amplitude each channel was commanded to, step by step, from the frames the host wrote. */
export function commandedTimeline(written: readonly WrittenLine[]): Map<number, Commanded[]> {
  const staged = new Map<number, number>();
  const out = new Map<number, Commanded[]>();
  const put = (ch: number, at: number, ma: number) => {
    const list = out.get(ch) ?? [];
    list.push({ at, ma });
    out.set(ch, list);
  };
  for (const w of written) {
    const d = decodeRequest(w.line);
    if (!d.ok) throw new Error(`the host wrote an invalid frame: ${w.line}`);
    const m = d.message;
    switch (m.verb) {
      case 'SET':
        staged.set(m.args.ch, m.args.amp / 1000);
        break;
      case 'START':
        put(m.args.ch, w.at, staged.get(m.args.ch) ?? 0);
        break;
      case 'AMP':
        put(m.args.ch, w.at, m.args.amp / 1000);
        break;
      case 'STOP':
        for (const ch of m.args.ch === undefined ? [...out.keys()] : [m.args.ch]) put(ch, w.at, 0);
        break;
      case 'ESTOP':
        for (const ch of out.keys()) put(ch, w.at, 0);
        break;
      case 'HELLO':
      case 'CLEAR':
      case 'HB':
      case 'STATUS':
      case 'IMP':
        break; // no amplitude
    }
  }
  return out;
}

/**
 * The worst excess over the bound, mA (<= 0 when the bound holds), and where. A(t) is a step
 * function, so the supremum over t1 < t2 is taken with t1 just before a change and t2 at a change.
 */
export function worstRise(timeline: readonly Commanded[], rateMaPerS: number): { excessMa: number; from?: Commanded; to?: Commanded; before?: number } {
  let worst: { excessMa: number; from?: Commanded; to?: Commanded; before?: number } = { excessMa: -Infinity };
  for (let i = 0; i < timeline.length; i++) {
    const before = i === 0 ? 0 : timeline[i - 1]!.ma;
    for (let j = i; j < timeline.length; j++) {
      const rise = timeline[j]!.ma - before;
      const allowed = (rateMaPerS * (timeline[j]!.at - timeline[i]!.at)) / 1000 + STEP_MA;
      if (rise - allowed > worst.excessMa) worst = { excessMa: rise - allowed, from: timeline[i]!, to: timeline[j]!, before };
    }
  }
  return worst;
}

/** The largest single rise between consecutive commands on any channel, mA. */
function largestStep(timelines: Map<number, Commanded[]>): number {
  let max = 0;
  for (const list of timelines.values()) for (let i = 1; i < list.length; i++) max = Math.max(max, list[i]!.ma - list[i - 1]!.ma);
  return max;
}

let open: ReturnType<typeof harness>[] = [];
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

async function runningAt(targetMa: number) {
  const h = harness({ sim: { amplitude: 'instant' } });
  open.push(h);
  await h.ready();
  const r = await h.call(h.runner.start({ targetMa }));
  if (!r.ok) throw new Error(r.error.message);
  await h.until(() => h.runner.state === 'running', 60_000, 'running');
  return h;
}

describe('H19 the commanded amplitude never rises faster than the ramp over any window (frames written, non-slewing device)', () => {
  it('H19 hold 17 s at 2 mA, then sixteen quick +0.5 mA titrations: no frame jumps, the target is approached by the ramp', async () => {
    const h = await runningAt(2);
    await h.run(17_000);
    for (let i = 0; i < 16; i++) {
      h.runner.titrate(0.5, 2);
      await h.run(10);
    }
    await h.until(() => h.runner.snapshot.channels[1]!.commandedMa === 10, 60_000, 'channel 2 at 10 mA');
    const timelines = commandedTimeline(h.tap.written);
    expect(largestStep(timelines)).toBeLessThanOrEqual(STEP_MA / 2 + EPS_MA); // the knee protocol ramps at 0.5 mA/s: 0.1 mA a step
    for (const [ch, list] of timelines) expect(worstRise(list, 0.5).excessMa, `channel ${ch}`).toBeLessThanOrEqual(EPS_MA);
    // What the device delivered (it applies AMP at once) is what was written: 8 mA took >= 16 s.
    const amps = h.tap.written.filter((w) => w.line.includes(' AMP ch=2 '));
    expect(amps.at(-1)!.at - amps[0]!.at).toBeGreaterThanOrEqual(((10 - 2.1) / 0.5) * 1000 - 1);
  });

  it('H19 random hold-then-burst and burst-after-pause sequences: A(t2) - A(t1) <= rate x (t2 - t1) + one step for all t1 < t2', async () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('hold' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
      fc.record({
        kind: fc.constant('burst' as const),
        count: fc.integer({ min: 1, max: 20 }),
        delta: fc.constantFrom(0.1, 0.5, -0.1, -0.5),
        channel: fc.constantFrom(1, 2, undefined),
        gapMs: fc.integer({ min: 0, max: 120 }),
      }),
      fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 15_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 30 }), async (actions, startTenths) => {
        const h = await runningAt(startTenths / 10);
        for (const a of actions) {
          if (h.runner.state !== 'running' && h.runner.state !== 'ramping') break;
          if (a.kind === 'hold') await h.run(a.ms);
          else if (a.kind === 'burst') {
            for (let i = 0; i < a.count; i++) {
              h.runner.titrate(a.delta, a.channel);
              await h.run(a.gapMs);
            }
          } else {
            await h.call(h.runner.pause());
            await h.run(a.ms);
            await h.call(h.runner.resume());
            // a burst straight after the resume, while the ramp is still climbing back
            for (let i = 0; i < 6; i++) h.runner.titrate(0.5);
          }
        }
        await h.run(3000);
        for (const [ch, list] of commandedTimeline(h.tap.written)) {
          const w = worstRise(list, RATE_MA_PER_S);
          expect(w.excessMa, `channel ${ch}: ${JSON.stringify(w)}`).toBeLessThanOrEqual(EPS_MA);
        }
        expect(largestStep(commandedTimeline(h.tap.written))).toBeLessThanOrEqual(STEP_MA + EPS_MA);
        for (const x of open.splice(0)) x.dispose();
      }),
      { numRuns: sized(12, 200), endOnFailure: true },
    );
  });

  it('the bound itself catches a host that jumps (the checker is not vacuous)', () => {
    const t = [
      { at: 0, ma: 0 },
      { at: 200, ma: 0.2 },
      { at: 17_200, ma: 0.2 },
      { at: 17_210, ma: 8.2 },
    ];
    expect(worstRise(t, 1).excessMa).toBeGreaterThan(7);
    expect(worstRise(t.slice(0, 2), 1).excessMa).toBeLessThanOrEqual(EPS_MA);
    // a ramp of 0.2 mA every 200 ms sits exactly on the bound
    const ramp = Array.from({ length: 30 }, (_, i) => ({ at: i * 200, ma: i * 0.2 }));
    expect(worstRise(ramp, 1).excessMa).toBeLessThanOrEqual(EPS_MA);
    // one extra 0.05 mA anywhere breaks it
    const over = ramp.map((c, i) => (i === 15 ? { ...c, ma: c.ma + 0.05 } : c));
    expect(worstRise(over, 1).excessMa).toBeGreaterThan(0.04);
  });
});
