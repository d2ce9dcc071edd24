/**
 * What the runner's actions return: a value, or an error with a code saying what kind of refusal
 * it is (errors as values: a refusal is never thrown).
 */
import type { SchedulerLike } from 'rxjs';
import type { Violation } from '../domain/safety/guard.js';
import { type DeviceError, describeDeviceError } from '../device/errors.js';
import type { Result } from '../domain/result.js';
import type { SessionState } from './states.js';

/**
 * Why a session action was refused: one code per kind of refusal, each mapped to the contract's
 * codes by `sessionFail` (src/app/service.ts, a switch the compiler checks is exhaustive). `Invalid`
 * is only for input that is wrong in itself (a titration step that is not one, a note too long).
 */
export type SessionError =
  | { readonly code: 'IllegalInState'; readonly action: string; readonly state: SessionState; readonly message: string }
  | { readonly code: 'LimitExceeded'; readonly violations: readonly Violation[]; readonly message: string }
  | { readonly code: 'Device'; readonly error: DeviceError; readonly message: string }
  /** No device, or the one there was has failed or gone: connect (again) first. */
  | { readonly code: 'NotConnected'; readonly message: string }
  /** An emergency stop is latched: nothing starts until it is cleared. */
  | { readonly code: 'Latched'; readonly message: string }
  /** The device has not yet confirmed the emergency stop (the ESTOP is being repeated until it does). */
  | { readonly code: 'EstopUnconfirmed'; readonly message: string }
  /** The screening has not cleared this patient for this protocol. */
  | { readonly code: 'NotCleared'; readonly message: string }
  /** The electrodes have not been checked, or a channel failed its check. */
  | { readonly code: 'ElectrodesNotReady'; readonly message: string }
  /** The protocol needs what the connected device does not have (a channel it lacks). */
  | { readonly code: 'Incompatible'; readonly message: string }
  /** The action belongs to a session, and no session record is open. */
  | { readonly code: 'NoSession'; readonly message: string }
  /** Input wrong in itself, whatever the state: names what and why. */
  | { readonly code: 'Invalid'; readonly message: string }
  /** The session's journal cannot be opened or written (a full disk, a read-only data directory). */
  | { readonly code: 'JournalUnavailable'; readonly message: string };

export type SessionErrorCode = SessionError['code'];

/** The domain's one Result shape, with the session's errors. */
export type SessionResult<T = void> = Result<T, SessionError>;
export type Refusal = { readonly ok: false; readonly error: SessionError };

export const done: SessionResult = Object.freeze({ ok: true as const, value: undefined });

export function illegal(action: string, state: SessionState): Refusal {
  return { ok: false, error: { code: 'IllegalInState', action, state, message: `cannot ${action} while ${state}` } };
}

export function invalid(message: string): Refusal {
  return { ok: false, error: { code: 'Invalid', message } };
}

/** A refusal of one of the codes that carry only a message. */
export function refuse(code: Exclude<SessionErrorCode, 'IllegalInState' | 'LimitExceeded' | 'Device'>, message: string): Refusal {
  return { ok: false, error: { code, message } };
}

export function limitExceeded(violations: readonly Violation[], message: string): Refusal {
  const detail = violations.map((v) => v.message).join('; ');
  return { ok: false, error: { code: 'LimitExceeded', violations, message: detail ? `${message}: ${detail}` : message } };
}

export function deviceError(error: DeviceError): Refusal {
  return { ok: false, error: { code: 'Device', error, message: describeDeviceError(error) } };
}

export function journalUnavailable(message: string): Refusal {
  return { ok: false, error: { code: 'JournalUnavailable', message } };
}

/** Wait for `p`, at most `ms` on `scheduler`: its value, or undefined when the time ran out first. */
export function within<T>(scheduler: SchedulerLike, p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = scheduler.schedule(() => resolve(undefined), ms);
    void p.then((v) => {
      timer.unsubscribe();
      resolve(v);
    });
  });
}
