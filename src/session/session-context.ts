/**
 * What every part of a session reaches of the session around it. The runner builds one
 * `SessionContext`; each part's own context picks the members it uses from it and adds only what
 * is its alone (a narrow view of the device client or the journal, a flag of another part), so the
 * session's state is read, changed and published through the same functions in every part, and a
 * part's test fakes only what that part uses.
 */
import type { SchedulerLike } from 'rxjs';
import type { Protocol } from '../domain/protocols/derive.js';
import type { Checked, CommandedAmplitude } from '../domain/safety/guard.js';
import type { StimulationParams } from '../domain/stimulation.js';
import type { Warning } from '../domain/safety/violation.js';
import type { AlarmPriority, AlarmText } from './alarms.js';
import type { EndReason, SessionState } from './states.js';

/** The alarm an abort raises when it is not the generic one. */
export interface AbortAlarm {
  readonly cause: string;
  readonly action: string;
  readonly channel?: number;
}

export interface SessionContext {
  readonly scheduler: SchedulerLike;
  /** The session's state now. */
  readonly state: () => SessionState;
  /** The prepared session's protocol (asked only once a session is prepared). */
  readonly protocol: () => Protocol;
  /** The prepared session's channels, as the session holds them (the parts update them in place). */
  readonly channels: () => readonly ChannelControl[];
  /** Change state: only a transition states.ts lists; recorded and published. */
  readonly enter: (to: SessionState, reason?: string) => void;
  /** Write the session's end record, when its record is open (the clock is held first). */
  readonly endSession: (reason: EndReason, detail: string | undefined) => void;
  /** Something went wrong with output possibly on: e-stop, high alarm, aborted (stop-sequence.ts). */
  readonly abort: (reason: string, portGone?: boolean, alarm?: AbortAlarm) => Promise<void>;
  /** Raise an alarm on the alarm board (recorded). */
  readonly raise: (priority: AlarmPriority, cause: string, action: string, channel: number | undefined, rule?: AlarmText) => void;
  /** The guard's warnings on a command for `channel` (the alarm board de-duplicates them). */
  readonly noteWarnings: (warnings: readonly Warning[], channel: number) => void;
  /** A new snapshot for the UI. */
  readonly publish: () => void;
}

/** One output channel as the session holds it. */
export interface ChannelControl {
  readonly channel: number;
  readonly region: string;
  readonly side: string;
  readonly sites: readonly string[];
  targetMa: number;
  /** The last amplitude the device acknowledged, and when it was commanded. */
  commanded: CommandedAmplitude | undefined;
  /** The program the channel was started with (the guard's Checked value). */
  active: Checked<StimulationParams> | undefined;
  on: boolean;
  measuredMa: number | null;
  impedance: number | 'OPEN' | null;
}
