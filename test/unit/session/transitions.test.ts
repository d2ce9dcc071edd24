/**
 * Illegal transitions are impossible: every action in every state it does not belong to is
 * refused with IllegalInState, changes no state and sends nothing to the device.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_STATES, TRANSITIONS, canTransition, type SessionState } from '../../../src/session/states.js';
import { clearedFor, harness, kneeProtocol } from '../../support/session-harness.js';

type H = ReturnType<typeof harness>;

const ACTIONS: Record<string, { allowed: readonly SessionState[]; call: (h: H) => Promise<{ ok: boolean; error?: { code: string } }> | { ok: boolean; error?: { code: string } } }> = {
  connect: { allowed: ['idle', 'aborted'], call: (h) => h.runner.connect() },
  disconnect: { allowed: ['ready', 'screening', 'checking-electrodes', 'completed', 'stopped', 'aborted'], call: (h) => h.runner.disconnect() },
  prepare: { allowed: ['ready'], call: (h) => h.runner.prepare({ protocol: kneeProtocol() }) },
  submitScreening: { allowed: ['screening'], call: (h) => h.runner.submitScreening(clearedFor(kneeProtocol())) },
  checkElectrodes: { allowed: ['checking-electrodes'], call: (h) => h.runner.checkElectrodes() },
  start: { allowed: ['checking-electrodes'], call: (h) => h.runner.start({ targetMa: 1 }) },
  titrate: { allowed: ['ramping', 'running'], call: (h) => h.runner.titrate(0.1) },
  pause: { allowed: ['ramping', 'running'], call: (h) => h.runner.pause() },
  resume: { allowed: ['paused'], call: (h) => h.runner.resume() },
  stop: { allowed: ['ramping', 'running', 'paused'], call: (h) => h.runner.stop() },
  clear: { allowed: ['stopped', 'aborted', 'ready', 'completed'], call: (h) => h.runner.clear() },
  newSession: { allowed: ['completed', 'stopped', 'aborted'], call: (h) => h.runner.newSession() },
  cancel: { allowed: ['screening', 'checking-electrodes'], call: (h) => h.runner.cancel() },
};

/** Drive a fresh harness into `state`. */
async function reach(state: SessionState): Promise<H> {
  const h = harness();
  if (state === 'idle') return h;
  await h.call(h.runner.connect());
  if (state === 'ready') return h;
  h.runner.prepare({ protocol: kneeProtocol() });
  if (state === 'screening') return h;
  await h.call(h.runner.submitScreening(clearedFor(kneeProtocol())));
  if (state === 'checking-electrodes') return h;
  if (state === 'aborted') {
    h.sim.reboot();
    await h.until(() => h.runner.state === 'aborted', 1000, 'aborted');
    return h;
  }
  await h.call(h.runner.start({ targetMa: 2 }));
  if (state === 'ramping') return h;
  await h.until(() => h.runner.state === 'running', 20_000, 'running');
  if (state === 'running') return h;
  if (state === 'paused') {
    await h.call(h.runner.pause());
    return h;
  }
  if (state === 'stopped') {
    await h.call(h.runner.estop('test'));
    return h;
  }
  if (state === 'completed') {
    await h.until(() => h.runner.state === 'completed', 21 * 60_000, 'completed');
    return h;
  }
  throw new Error(`no route to ${state}`);
}

let open: H[] = [];
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

const REACHABLE: SessionState[] = ['idle', 'ready', 'screening', 'checking-electrodes', 'ramping', 'running', 'paused', 'completed', 'stopped', 'aborted'];

describe('session state machine', () => {
  it('the transition table is closed over the states and every state can be left', () => {
    for (const s of SESSION_STATES) {
      expect(TRANSITIONS[s].length).toBeGreaterThan(0);
      for (const t of TRANSITIONS[s]) expect(SESSION_STATES).toContain(t);
    }
    expect(canTransition('ready', 'running')).toBe(false);
    expect(canTransition('idle', 'ramping')).toBe(false);
    expect(canTransition('paused', 'running')).toBe(false); // resume goes through ramping
    expect(canTransition('completed', 'ramping')).toBe(false);
  });

  for (const state of REACHABLE) {
    it(`refuses every action that does not belong in '${state}', changing nothing`, async () => {
      const h = await reach(state);
      open.push(h);
      expect(h.runner.state).toBe(state);
      for (const [name, action] of Object.entries(ACTIONS)) {
        if (action.allowed.includes(state)) continue;
        const before = h.client.counters.linesOut;
        const r = await action.call(h);
        expect(r.ok, `${name} in ${state}`).toBe(false);
        expect(r.error?.code, `${name} in ${state}`).toBe('IllegalInState');
        expect(h.runner.state, `${name} in ${state}`).toBe(state);
        expect(h.client.counters.linesOut, `${name} in ${state} sent something`).toBe(before);
      }
    });
  }
});
