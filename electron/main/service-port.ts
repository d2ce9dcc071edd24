/**
 * What the Electron shell needs from the ControllerService (src/app/service.ts), structurally, so
 * main depends on a few methods and tests can pass a fake. The real service satisfies these types
 * (checked where electron/main/main.ts passes it).
 */
import type { EstopSource, EventName, Result } from '../../src/app/contract.js';
import type { ControlChange } from '../../src/app/control.js';

export type { EstopSource };

/** The safety half of the service: whether current may be flowing, and the e-stop. */
export interface SafetyPort {
  /** True while any channel may be delivering current (or the device state is unknown). */
  outputMayBeOn(): boolean;
  /** Stops all output at once; never waits behind anything else. Must not throw. */
  emergencyStop(source: EstopSource): unknown;
}

/** One pushed event as the service emits it. */
export interface PushedEvent {
  readonly event: EventName;
  readonly data: unknown;
}

/** The service as the shell uses it: safety, its pushed events, the record of a take-over, and its disposal. */
export interface ShellService extends SafetyPort {
  /** Subscribes to every pushed event; returns the unsubscribe. */
  on(listener: (event: PushedEvent) => void): () => void;
  /** Writes a change of the controlling UI into the open session's record (SessionControl decides it). */
  recordControl(change: ControlChange): Result<null> | Promise<Result<null>>;
  /** E-stops if output may be on, then releases everything. Never throws. */
  dispose(): unknown;
}
