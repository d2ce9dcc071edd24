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
