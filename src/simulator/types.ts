/**
 * Public shapes of the simulated stimulator: options, observable events (the `edn simulate --json`
 * lines) and the snapshot tests inspect.
 */
import type { SchedulerLike } from 'rxjs';
import type { ChannelState, ErrorCode, FaultCode, SetArgs } from '../../firmware-protocol/index.js';
import type { DeviceLimits } from './limits.js';

export interface SimulatorOptions {
  /**
   * Source of all time: `now()` (ms) and `schedule()`. Virtual in tests (test/support/virtual-time.ts),
   * monotonic in production (src/device/time.ts). The simulator never reads a clock of its own.
   */
  readonly scheduler: SchedulerLike;
  /** Number of output channels, 1..8. Default 4. */
  readonly channels?: number;
  /** Overrides of the device's compiled limits (units in DeviceLimits). Default DEFAULT_LIMITS. */
  readonly limits?: Partial<DeviceLimits>;
  /** Seed of the PRNG behind load noise, boot ids, garbage and corruption (uint32). Default 1. */
  readonly seed?: number;
  /**
   * Mixed with the seed into the boot ids (uint32). Default: fresh random bits at every
   * construction (Web Crypto), so that two simulators started with the same seed report different
   * boot ids, as PROTOCOL.md §6.1 requires of a power-up. Give it to make boot ids reproducible.
   */
  readonly bootEntropy?: number;
  /** Model reported by HELLO (1-32 of [A-Za-z0-9._-]). Default 'EDN-SIM4'. */
  readonly model?: string;
  /** Firmware version reported by HELLO (1-32 of [A-Za-z0-9._-]). Default 'sim-1.0.0'. */
  readonly firmware?: string;
  /** Serial number reported by HELLO (1-32 of [A-Za-z0-9._-]). Default 'SIM-' + the seed in hex. */
  readonly serial?: string;
  /** Control period, ms, in (0, 10]: watchdog, compliance and open-circuit checks. Default 10. */
  readonly tickMs?: number;
  /** Nominal load of every channel, ohm; each channel draws +/-3% noise from the seed. Default 1500. */
  readonly loadOhms?: number;
  /**
   * How the output stage follows an amplitude: `ramp` (default) slews toward it at the program's
   * ramp, as PROTOCOL.md §7.3 asks; `instant` applies AMP (and the staged amplitude at START) at
   * once, as a device without its own slew would. With `instant` only the host's own ramp stands
   * between a titration and the patient, so the session suite runs against it too.
   */
  readonly amplitude?: 'ramp' | 'instant';
}

/** What the simulator reports about itself: one JSON line each in `edn simulate --json`. */
export type SimEvent =
  /** An output switched on or off, or its amplitude set point changed (coalesced, see MODEL). */
  | { readonly event: 'output'; readonly channel: number; readonly on: boolean; readonly amplitudeMa: number }
  /** The watchdog expired: every output off, host session ended. */
  | { readonly event: 'watchdog' }
  /** ESTOP received: every output off, latched. */
  | { readonly event: 'estop' }
  /** CLEAR received: the latch is off. */
  | { readonly event: 'clear' }
  /** A fault switched output off (`channel` 0: every channel, latched). */
  | { readonly event: 'fault'; readonly channel: number; readonly code: FaultCode }
  /** The device (re)booted with this boot id. */
  | { readonly event: 'boot'; readonly bootId: string }
  /** A channel's duration elapsed. */
  | { readonly event: 'done'; readonly channel: number }
  /** An input line was refused with `code` (decode errors and refused requests alike). */
  | { readonly event: 'rejected'; readonly code: ErrorCode; readonly line: string };

export type SimEventName = SimEvent['event'];

export interface ChannelSnapshot {
  /** Channel number, 1-based as on the wire. */
  readonly channel: number;
  readonly state: ChannelState;
  /** Present amplitude set point, µA (0 unless ON). */
  readonly setpointUa: number;
  /** Amplitude the set point is slewing toward, µA (0 unless ON). */
  readonly targetUa: number;
  /** Current delivered into the load, µA: the set point, clipped at compliance; 0 into OPEN or when not ON. */
  readonly measuredUa: number;
  /** Load impedance, ohm, or OPEN. */
  readonly loadOhms: number | 'OPEN';
  /** Charge delivered in the cathodic phases since the last START, nC (kept after output ends). */
  readonly deliveredNc: number;
  /** The staged or running program, as stored (null when OFF or DONE). */
  readonly program: SetArgs | null;
}

export interface SimulatorCounters {
  /** Valid frames answered OK (including answers re-sent to a byte-identical retry). */
  readonly framesOk: number;
  /** Input lines answered ERR (or whose `! ERR` was suppressed), by code. */
  readonly rejectedByCode: Readonly<Record<ErrorCode, number>>;
  /** `! ERR` lines not sent because of the 10-per-second cap. */
  readonly unsolicitedErrorsSuppressed: number;
  /** Byte-identical retries answered from the stored reply without executing again. */
  readonly repeatsAnswered: number;
}

export interface LinkSnapshot {
  readonly cablePulled: boolean;
  /** Replies still to be dropped (dropReplies). */
  readonly dropRepliesPending: number;
  /** Delay added to every reply, ms (delayReplies). */
  readonly replyDelayMs: number;
  /** Outgoing lines still to be corrupted (corruptNextLines). */
  readonly corruptLinesPending: number;
  /** Replies dropped so far. */
  readonly repliesDropped: number;
  /** Input bytes lost while the cable was pulled. */
  readonly bytesLostIn: number;
  /** Output lines (and garbage chunks) lost while the cable was pulled. */
  readonly linesLostOut: number;
}

export interface SimulatorSnapshot {
  /** Scheduler time, ms. */
  readonly nowMs: number;
  /** ms since the last boot (STATUS `up`). */
  readonly upMs: number;
  readonly started: boolean;
  readonly disposed: boolean;
  readonly bootId: string;
  readonly latched: boolean;
  readonly hostSession: boolean;
  readonly limits: DeviceLimits;
  readonly channels: readonly ChannelSnapshot[];
  readonly counters: SimulatorCounters;
  readonly link: LinkSnapshot;
  /** Bytes held by the receive line buffer (never more than 256). */
  readonly rxBufferedBytes: number;
}
