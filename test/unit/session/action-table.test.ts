/**
 * The action-by-state table (states.ts) agrees with the transition table: an action is allowed
 * only in states from which the transition it makes exists. (transitions.test.ts shows the
 * runner refuses everything the table does not allow.)
 */
import { describe, expect, it } from 'vitest';
import { ACTIONS_BY_STATE, SESSION_ACTIONS, SESSION_STATES, TERMINAL_STATES, allowedIn, canTransition, type SessionAction, type SessionState } from '../../../src/session/states.js';

/** The state each action moves the session to. */
const LEADS_TO: Readonly<Record<SessionAction, SessionState | undefined>> = {
  connect: 'connecting',
  disconnect: 'idle',
  prepare: 'screening',
  submitScreening: 'checking-electrodes',
  checkElectrodes: undefined, // stays
  start: 'ramping',
  titrate: undefined,
  pause: 'paused',
  resume: 'ramping',
  stop: 'ramping-down',
  clear: undefined,
  newSession: 'ready',
  cancel: 'ready',
};

describe('ACTIONS_BY_STATE', () => {
  it('names every action once, with states that exist', () => {
    expect(Object.keys(ACTIONS_BY_STATE).sort()).toEqual([...SESSION_ACTIONS].sort());
    for (const states of Object.values(ACTIONS_BY_STATE)) for (const s of states) expect(SESSION_STATES).toContain(s);
  });

  it('an action is allowed only where the transition it makes is allowed', () => {
    for (const action of SESSION_ACTIONS) {
      const to = LEADS_TO[action];
      if (to === undefined) continue;
      for (const s of ACTIONS_BY_STATE[action]) expect(canTransition(s, to), `${action} in ${s} -> ${to}`).toBe(true);
    }
  });

  it('output can only start from a checked session or a pause, and a new session only after an end', () => {
    expect(SESSION_STATES.filter((s) => allowedIn('start', s))).toEqual(['checking-electrodes']);
    expect(SESSION_STATES.filter((s) => allowedIn('resume', s))).toEqual(['paused']);
    expect(SESSION_STATES.filter((s) => allowedIn('newSession', s)).every((s) => TERMINAL_STATES.has(s))).toBe(true);
    expect(SESSION_STATES.filter((s) => allowedIn('titrate', s))).toEqual(['ramping', 'running']);
  });
});
