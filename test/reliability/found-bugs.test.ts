/**
 * Defects in src/ found by the reliability campaigns, each reduced to the smallest test that shows
 * it, kept as regression tests. A new one FAILS until the code is fixed (this directory does not
 * fix src/; the fix belongs to the owner of the file named in the test); each says what happened
 * and what should.
 *
 * Status: the DeviceClient.estop defect below was fixed in 223f1fe (the promise is registered
 * before the write, and cleared in settle only if it is still the current one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { harness, kneeProtocol, clearedFor } from '../support/session-harness.js';

let open: ReturnType<typeof harness>[] = [];
function make(): ReturnType<typeof harness> {
  const h = harness();
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

describe('found by the sequence campaign (src/device/client.ts, DeviceClient.estop; fixed in 223f1fe)', () => {
  /*
   * WAS: DeviceClient.estop() created its promise, and INSIDE the Promise executor wrote the ESTOP line.
   * With a transport that answers synchronously (SimulatorTransport: the in-process simulator used
   * by `--port sim`, the web training host and every harness test), the OK ESTOP arrives during
   * that write, the pending entry settled, and its settle callback set `#estop = undefined` ...
   * before `this.#estop = promise` ran on the next line. `#estop` therefore stayed set to a
   * resolved promise for the life of the client: every later estop() returned it at once and
   * wrote NOTHING. The client also reported `latched: true` while the device was not latched.
   * Expected: every estop() call writes ESTOP at once (or joins one still unacknowledged).
   * A fix: assign `#estop` before transmitting, or clear it in settle only if it is this promise.
   */
  it('regression: a second e-stop (after CLEAR) reaches the device when the transport answers synchronously', async () => {
    const h = make();
    await h.call(h.runner.connect());
    const sent: string[] = [];
    h.client.traffic$.subscribe((t) => {
      if (t.dir === 'tx' && / ESTOP /.test(t.line)) sent.push(t.line);
    });
    expect((await h.call(h.client.estop())).ok).toBe(true);
    expect(h.sim.snapshot().latched).toBe(true);
    expect((await h.call(h.client.request('CLEAR', {}))).ok).toBe(true);
    expect(h.sim.snapshot().latched).toBe(false);

    void h.client.estop();
    expect(sent, 'ESTOP lines written').toHaveLength(2); // before the fix: 1
    expect(h.sim.snapshot().latched, 'device latched after the second e-stop').toBe(true); // before the fix: false
  });

  /*
   * The same defect seen from the session: after one e-stop and CLEAR, the next session's abort
   * (here an open-circuit FAULT on channel 1, which the device answers by switching off channel 1
   * only) called client.estop(), which wrote nothing. Channel 2 stayed ON at 2 mA while the runner
   * said 'aborted', and since the client had not failed the runner kept sending heartbeats, so
   * the device watchdog never ended it either: it ran until the staged duration (up to 20 min).
   * Expected: an abort switches every output off (ESTOP on the wire, device latched).
   */
  it('regression: after one e-stop and clear, a later abort (open circuit on ch1) switches ch2 off too', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 2 }));
    await h.run(6000);
    await h.call(h.runner.estop('button'));
    expect((await h.call(h.runner.clear())).ok).toBe(true);
    expect(h.runner.newSession().ok).toBe(true);
    expect(h.runner.prepare({ protocol: kneeProtocol() }).ok).toBe(true);
    expect((await h.call(h.runner.submitScreening(clearedFor(kneeProtocol())))).ok).toBe(true);
    await h.call(h.runner.start({ targetMa: 2 }));
    await h.run(6000);
    expect(h.output().map((c) => c.channel)).toEqual([1, 2]);

    h.sim.setLoad(1, 'OPEN');
    await h.run(10_000);
    expect(h.runner.state).toBe('aborted');
    expect(h.output().map((c) => `ch${c.channel} ${c.setpointUa} uA`), 'output 10 s after the abort').toEqual([]); // before the fix: ['ch2 2000 uA']
    expect(h.sim.snapshot().latched, 'device latched by the abort').toBe(true); // before the fix: false
  });
});
