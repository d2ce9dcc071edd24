/**
 * The session state machine's states and the only transitions between them. The runner changes
 * state in exactly one place (`SessionRunner#enter`), which refuses anything not listed here, and
 * a test walks every (state, action) pair to show illegal calls change nothing.
 */

export const SESSION_STATES = [
  'idle',
  'connecting',
  'ready',
  'screening',
  'checking-electrodes',
  'ramping',
  'running',
  'paused',
  'ramping-down',
  'completed',
  'stopped',
  'aborted',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** States in which output may be on (or about to be). */
export const OUTPUT_STATES: ReadonlySet<SessionState> = new Set(['ramping', 'running', 'ramping-down']);
/** States that end a session. */
export const TERMINAL_STATES: ReadonlySet<SessionState> = new Set(['completed', 'stopped', 'aborted']);
/** States in which output is on or may come back on without a new start (paused): a session in progress. */
export const OUTPUT_MAY_BE_ON: ReadonlySet<SessionState> = new Set(['ramping', 'running', 'ramping-down', 'paused']);

/**
 * Allowed transitions. `stopped` is reached by an e-stop or a clinician's stop, `aborted` by a
 * fault, a disconnection, a reboot, a watchdog trip, a lost heartbeat or a journal failure.
 */
export const TRANSITIONS: { readonly [S in SessionState]: readonly SessionState[] } = {
  idle: ['connecting'],
  connecting: ['ready', 'idle'],
  ready: ['screening', 'idle', 'stopped', 'aborted'],
  screening: ['checking-electrodes', 'ready', 'idle', 'stopped', 'aborted'],
  'checking-electrodes': ['ramping', 'screening', 'ready', 'idle', 'stopped', 'aborted'],
  ramping: ['running', 'paused', 'ramping-down', 'stopped', 'aborted'],
  running: ['ramping', 'paused', 'ramping-down', 'stopped', 'aborted'],
  paused: ['ramping', 'ramping-down', 'stopped', 'aborted'],
  'ramping-down': ['completed', 'stopped', 'aborted'],
  completed: ['ready', 'idle'],
  stopped: ['ready', 'idle', 'aborted'],
  aborted: ['ready', 'idle', 'connecting'],
};

export function canTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** How a session ended. */
export type EndReason = 'completed' | 'stopped' | 'aborted';

/** The runner's actions that are only allowed in some states (the others are refused by their own checks). */
export const SESSION_ACTIONS = [
  'connect',
  'disconnect',
  'prepare',
  'submitScreening',
  'checkElectrodes',
  'start',
  'titrate',
  'pause',
  'resume',
  'stop',
  'clear',
  'newSession',
  'cancel',
] as const;
export type SessionAction = (typeof SESSION_ACTIONS)[number];

/**
 * Which action is allowed in which state, beside the transitions it leads to. The runner asks
 * `allowedIn` before it does anything, and refuses with IllegalInState otherwise; the transition
 * test walks every (state, action) pair against this table. E-stop, notes, alarm acknowledgement
 * and record writes are not here: an e-stop is never refused, and the others depend on an open
 * record or a showing alarm, not on the state.
 */
export const ACTIONS_BY_STATE: { readonly [A in SessionAction]: readonly SessionState[] } = {
  connect: ['idle', 'aborted'],
  disconnect: ['ready', 'screening', 'checking-electrodes', 'completed', 'stopped', 'aborted'],
  prepare: ['ready'],
  submitScreening: ['screening'],
  checkElectrodes: ['checking-electrodes'],
  start: ['checking-electrodes'],
  titrate: ['ramping', 'running'],
  pause: ['ramping', 'running'],
  resume: ['paused'],
  stop: ['ramping', 'running', 'paused'],
  clear: ['stopped', 'aborted', 'ready', 'completed'],
  newSession: ['completed', 'stopped', 'aborted'],
  cancel: ['screening', 'checking-electrodes'],
};

export function allowedIn(action: SessionAction, state: SessionState): boolean {
  return ACTIONS_BY_STATE[action].includes(state);
}
