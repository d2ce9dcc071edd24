/**
 * H1 The stimulation choke point at run time: the device client refuses, and writes nothing for,
 * a SET, START or AMP without a value the guard issued (a forged `Checked`, a copy of a genuine
 * one, plain parameters) and any stimulating or handshake verb through the generic request().
 * What reaches the device is read from the frames written (the tap transport).
 *
 * The same property at compile time is the `edn/choke-point` ESLint rule with the type checker
 * (eslint.choke-point.js; test/unit/choke-point-rule.test.ts shows it catches each way around the
 * guard). The regex scan of the sources that stood here was deleted: a rename or a verb held in a
 * variable slipped past it, and the rule covers what it covered. The @ts-expect-error lines below
 * stay as the type-level evidence, but each call now runs and its refusal is asserted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Checked } from '../../../src/domain/safety/guard.js';
import type { StimulationParams } from '../../../src/domain/stimulation.js';
import { PARAMS, checked, checkedAmp } from '../../support/device-fixtures.js';
import { harness } from '../../support/session-harness.js';

let open: ReturnType<typeof harness>[] = [];
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

async function connected() {
  const h = harness();
  open.push(h);
  const r = await h.call(h.runner.connect());
  if (!r.ok) throw new Error(r.error.message);
  return h;
}

/** Frames written since `from` whose verb is one of `verbs`. */
const framesOf = (h: ReturnType<typeof harness>, from: number, verbs: RegExp) => h.tap.written.slice(from).filter((w) => verbs.test(w.line));
const STIMULATING = / (SET|START|AMP|ESTOP|HELLO)( |$)/;

describe('H1 the choke point refuses at run time what the types refuse at compile time', () => {
  it('H1 forged Checked values: stage, start and setAmplitude refuse them (Unchecked) and write no frame', async () => {
    const h = await connected();
    const from = h.tap.written.length;
    const genuine = checked({ amplitudeMa: 1 });
    const forgeries: [string, unknown][] = [
      ['plain parameters', PARAMS],
      ['an object shaped like Checked', { value: { ...PARAMS, amplitudeMa: 20 }, warnings: [] }],
      ['a copy of a genuine Checked', structuredClone(genuine)],
      ['a spread of a genuine Checked', { ...genuine }],
    ];
    for (const [what, forged] of forgeries) {
      const set = await h.call(h.client.stage(forged as Checked<StimulationParams>));
      const start = await h.call(h.client.start(forged as Checked<StimulationParams>));
      const amp = await h.call(h.client.setAmplitude({ value: { channel: 1, amplitudeMa: 20, atMs: 0 }, warnings: [] } as never));
      for (const [verb, r] of [['SET', set], ['START', start], ['AMP', amp]] as const) {
        expect(r.ok, `${what}: ${verb}`).toBe(false);
        if (!r.ok) expect(r.error, `${what}: ${verb}`).toMatchObject({ code: 'Unchecked', verb });
      }
    }
    expect(framesOf(h, from, STIMULATING)).toEqual([]);
  });

  it('H1 the generic request() refuses SET, START, AMP, ESTOP and HELLO whatever the caller claims, and writes no frame', async () => {
    const h = await connected();
    const from = h.tap.written.length;
    // @ts-expect-error SET is not a plain verb
    const set = await h.call(h.client.request('SET', { ch: 1, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 20_000, dur: 60, ramp: 1000 }));
    // @ts-expect-error AMP is not a plain verb
    const amp = await h.call(h.client.request('AMP', { ch: 1, amp: 20_000 }));
    // @ts-expect-error START is not a plain verb
    const start = await h.call(h.client.request('START', { ch: 1 }));
    // @ts-expect-error ESTOP has its own path (estop()), never the queue
    const estop = await h.call(h.client.request('ESTOP', {}));
    // @ts-expect-error HELLO is the handshake's (connect())
    const hello = await h.call(h.client.request('HELLO', { vmin: 1, vmax: 1 }));
    for (const [verb, r] of [['SET', set], ['AMP', amp], ['START', start], ['ESTOP', estop], ['HELLO', hello]] as const) {
      expect(r.ok, verb).toBe(false);
      if (!r.ok) expect(r.error, verb).toMatchObject({ code: 'Unchecked', verb });
    }
    expect(framesOf(h, from, STIMULATING)).toEqual([]);
    // A plain verb still goes through: the refusal is about the verb, not the request path.
    expect((await h.call(h.client.request('STATUS', {}))).ok).toBe(true);
  });

  it("H1 the guard's own values go through (the refusals above are not a dead client)", async () => {
    const h = await connected();
    const from = h.tap.written.length;
    await h.run(1000);
    const params = checked({ amplitudeMa: 0 });
    expect((await h.call(h.client.stage(params))).ok).toBe(true);
    expect((await h.call(h.client.start(params))).ok).toBe(true);
    expect((await h.call(h.client.setAmplitude(checkedAmp({ channel: 1, amplitudeMa: 0.1, atMs: h.scheduler.now() }, { amplitudeMa: 0, atMs: h.scheduler.now() - 500 })))).ok).toBe(true);
    expect(framesOf(h, from, / (SET|START|AMP) /).map((w) => w.line.split(' ')[1])).toEqual(['SET', 'START', 'AMP']);
    await h.call(h.client.estop());
  });
});
