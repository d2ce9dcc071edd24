/**
 * What the runner's actions return: a value, or an error with a code saying what kind of refusal
 * it is (errors as values: a refusal is never thrown).
 */
import type { SchedulerLike } from 'rxjs';
import type { Violation } from '../domain/safety/guard.js';
import { type DeviceError, describeDeviceError } from '../device/errors.js';
import type { SessionState } from './states.js';

export type SessionError =
  | { readonly code: 'IllegalInState'; readonly action: string; readonly state: SessionState; readonly message: string }
  | { readonly code: 'LimitExceeded'; readonly violations: readonly Violation[]; readonly message: string }
  | { readonly code: 'Device'; readonly error: DeviceError; readonly message: string }
  | { readonly code: 'Invalid'; readonly message: string }
  /** The session's journal cannot be written (a full disk, a read-only data directory). */
  | { readonly code: 'JournalUnavailable'; readonly message: string };

export type SessionResult<T = void> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SessionError };
export type Refusal = { readonly ok: false; readonly error: SessionError };

export const done: SessionResult = Object.freeze({ ok: true as const, value: undefined });

export function illegal(action: string, state: SessionState): Refusal {
  return { ok: false, error: { code: 'IllegalInState', action, state, message: `cannot ${action} while ${state}` } };
}

export function invalid(message: string): Refusal {
  return { ok: false, error: { code: 'Invalid', message } };
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
