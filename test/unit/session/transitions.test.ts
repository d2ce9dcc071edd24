/**
 * Illegal transitions are impossible: in each of the 12 states, every action that does not belong
 * there is refused with IllegalInState, changes no state and sends nothing to the device; and every
 * transition the runner makes on the way to those states is one the table lists.
 *
 * Everything here is checked at run time. (The table's being "closed over the states" was asserted
 * by a loop that its own type, `{ [S in SessionState]: readonly SessionState[] }`, already
 * guaranteed: it passed whatever the code did and is gone. `connecting` and `ramping-down` were
 * not walked; they are now.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionRunner } from '../../../src/session/runner.js';
import { SESSION_STATES, TRANSITIONS, canTransition, type SessionState } from '../../../src/session/states.js';
import { settle } from '../../support/virtual-time.js';
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

/**
 * Public methods of the runner that are not gated by the session state, and why. Every other
 * public method must be in ACTIONS, so a new one cannot skip this walk unseen.
 */
const NOT_STATE_GATED: Record<string, string> = {
  estop: 'allowed in every state: the stop never waits (it ends the session where one is open)',
  addNote: 'refused without an open session record, not by state',
  recordControl: 'refused without an open session record, not by state',
  recordCourse: 'refused without an open session record, not by state',
  acknowledgeAlarm: 'refused when no such alarm shows, not by state',
  dispose: 'releases the runner in any state',
};

/** Drive a fresh harness into `state`. */
async function reach(state: SessionState): Promise<H> {
  const h = harness();
  if (state === 'idle') return h;
  if (state === 'connecting') {
    h.sim.delayReplies(150); // the HELLO's answer takes a while: connecting lasts
    void h.runner.connect();
    await settle(20);
    return h;
  }
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
  if (state === 'ramping-down') {
    h.sim.delayReplies(150); // the STOP's acknowledgement takes a while: ramping-down lasts
    void h.runner.stop();
    await settle(20);
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
  throw new Error(`no route to ${String(state)}`);
}

let open: H[] = [];
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

describe('session state machine', () => {
  it('every state can be left, and some shortcuts are not in the table', () => {
    for (const s of SESSION_STATES) expect(TRANSITIONS[s].length, s).toBeGreaterThan(0);
    expect(canTransition('ready', 'running')).toBe(false);
    expect(canTransition('idle', 'ramping')).toBe(false);
    expect(canTransition('paused', 'running')).toBe(false); // resume goes through ramping
    expect(canTransition('completed', 'ramping')).toBe(false);
  });

  it('every public method of the runner is walked here or says why it is not gated by state', () => {
    const methods = Object.getOwnPropertyNames(SessionRunner.prototype).filter((m) => m !== 'constructor' && typeof Object.getOwnPropertyDescriptor(SessionRunner.prototype, m)?.value === 'function');
    const unaccounted = methods.filter((m) => !(m in ACTIONS) && !(m in NOT_STATE_GATED));
    expect(unaccounted).toEqual([]);
    // And nothing listed here is stale.
    expect([...Object.keys(ACTIONS), ...Object.keys(NOT_STATE_GATED)].filter((m) => !methods.includes(m))).toEqual([]);
  });

  for (const state of SESSION_STATES) {
    it(`refuses every action that does not belong in '${state}', changing nothing`, async () => {
      const h = await reach(state);
      open.push(h);
      expect(h.runner.state).toBe(state);
      // Every transition on the way here is one the table allows.
      const path = ['idle', ...h.states.filter((s, i) => i > 0 || s !== 'idle')];
      for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1] as SessionState, path[i] as SessionState), `${path[i - 1]} -> ${path[i]}`).toBe(true);
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
