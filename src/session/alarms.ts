/**
 * The alarm rules of a session (after IEC 60601-1-8), as pure functions: which alarm a condition
 * raises, its words, how an alarm that is already showing is updated when its condition changes,
 * and de-duplication per channel and limit. The runner keeps the alarm list and the journal; this
 * module only decides what they say, so every sentence can be tested without a device.
 *
 * Rules:
 * - Every alarm names its cause and the channel(s) it concerns.
 * - A warning is one alarm per limit: the same limit crossed on a second channel updates the
 *   showing alarm to name both channels (one alarm, not two); the same channel again updates the
 *   value (the text follows the condition, never the value from when it tripped).
 * - A value is shown at the precision that makes the stated comparison true ("2.004 mA/cm² is
 *   above 2 mA/cm²", never "2 mA/cm² is above 2 mA/cm²").
 * - The e-stop names its source. With output on it is a high-priority alarm; with nothing on it is
 *   still sent and recorded, but it is not an alarm condition (nothing to acknowledge).
 * - "latched" is said only while the stop is latched: `afterClear` rewrites what a cleared stop says.
 */
import type { Warning } from '../domain/safety/violation.js';
import { HARD_LIMITS } from '../domain/safety/limits.js';
import { comparedNumbers, formatNumber } from '../domain/units.js';

/** The shared rule of the words "value is above threshold" (kept here for the alarm tests' import). */
export { comparedNumbers };

export type AlarmPriority = 'high' | 'medium' | 'low';

/** What an alarm says; the runner adds the id and the time. */
export interface AlarmText {
  readonly priority: AlarmPriority;
  readonly cause: string;
  readonly action: string;
  /** The channels it concerns, ascending; empty for the whole device. */
  readonly channels: readonly number[];
  /** The rule that raised it: 'estop', 'fault:<code>', 'warning:<limit>' (de-duplication key). */
  readonly rule: string;
}

/** "channel 1", "channels 1 and 2", "channels 1, 2 and 3" (ascending, each once). */
export function channelsText(channels: readonly number[]): string {
  const cs = [...new Set(channels)].sort((a, b) => a - b);
  if (cs.length === 0) return 'all channels';
  if (cs.length === 1) return `channel ${cs[0]}`;
  return `channels ${cs.slice(0, -1).join(', ')} and ${cs[cs.length - 1]}`;
}

const ESTOP_SOURCE: Readonly<Record<string, string>> = {
  button: 'the Emergency stop button',
  keyboard: 'the Escape key',
  signal: 'a stop signal to the program',
  device: 'the device',
  'renderer-crash': 'the screen stopping (renderer crash)',
  'ui-unresponsive': 'the screen not responding',
  'window-close': 'the window closing',
  'connection-lost': 'the connection to the screen being lost',
  shutdown: 'the application shutting down',
};

/** The e-stop's source in words ("the Escape key"); an unknown source is named as given. */
export function estopSourceText(source: string): string {
  return ESTOP_SOURCE[source] ?? `"${source}"`;
}

/**
 * The alarm an e-stop raises, or undefined when no output was on (the stop is still sent and
 * recorded, but there is no hazardous situation to alarm about, so nothing needs acknowledging).
 */
export function estopAlarm(source: string, outputWasOn: boolean): AlarmText | undefined {
  if (!outputWasOn) return undefined;
  return {
    priority: 'high',
    cause: `Emergency stop by ${estopSourceText(source)}: all output is off and latched`,
    action: 'Check the patient; clear the stop to start a new session',
    channels: [],
    rule: 'estop',
  };
}

/** What an alarm says once the latch is cleared: no "latched", no "clear the stop". */
export function afterClear(a: AlarmText): AlarmText {
  if (a.rule !== 'estop') return a;
  return {
    ...a,
    cause: a.cause.replace(/: all output is off and latched$/, ': all output is off (the stop is cleared)'),
    action: 'Check the patient before a new session',
  };
}

const WARNING_NAME: Readonly<Record<string, string>> = {
  [HARD_LIMITS.shannonKWarn.key]: 'Shannon k',
  [HARD_LIMITS.rmsDensityWarnMaPerCm2.key]: 'RMS current density',
};

/** The text of a warning alarm for the channels in `byChannel` (channel -> its latest value). */
export function warningAlarm(w: Warning, byChannel: ReadonlyMap<number, number>): AlarmText {
  const channels = [...byChannel.keys()].sort((a, b) => a - b);
  const unit = w.unit === '' ? '' : ` ${w.unit.replace('mA/cm2', 'mA/cm²')}`;
  const name = WARNING_NAME[w.limit] ?? w.limit;
  const shown = channels.map((ch) => ({ ch, ...comparedNumbers(byChannel.get(ch) ?? w.value, w.threshold, 'above') }));
  const first = shown[0] ?? { ch: 0, ...comparedNumbers(w.value, w.threshold, 'above') };
  const cause =
    shown.length <= 1
      ? `${name} ${first.value}${unit} is above ${first.threshold}${unit} on ${channelsText(channels)} [${w.source}]`
      : `${name} is above ${formatNumber(w.threshold)}${unit} on ${channelsText(channels)} (${shown.map((s) => `${s.value}${unit} on channel ${s.ch}`).join(', ')}) [${w.source}]`;
  return { priority: 'medium', cause, action: 'Watch the site; lower the amplitude if in doubt', channels, rule: `warning:${w.limit}` };
}

/** A warning alarm that is showing: its limit, and the last value per channel. */
export interface ShownWarning {
  readonly id: string;
  readonly limit: string;
  readonly byChannel: ReadonlyMap<number, number>;
}

/** What to do with a warning on a channel, given the warning alarms still showing. */
export type WarningDecision =
  | { readonly kind: 'raise'; readonly alarm: AlarmText; readonly byChannel: ReadonlyMap<number, number>; readonly firstOnChannel: true }
  | { readonly kind: 'update'; readonly id: string; readonly alarm: AlarmText; readonly byChannel: ReadonlyMap<number, number>; readonly firstOnChannel: boolean }
  | { readonly kind: 'same' };

/**
 * De-duplication per channel and limit: a limit with no alarm showing raises one; a limit already
 * showing is updated (a new channel is added to it; a changed value replaces the old one); the same
 * channel at the same shown value changes nothing. `firstOnChannel` says the channel+limit is new
 * (the runner journals a warning record for each channel+limit once).
 */
export function decideWarning(showing: readonly ShownWarning[], w: Warning, channel: number): WarningDecision {
  const s = showing.find((x) => x.limit === w.limit);
  if (!s) {
    const byChannel = new Map([[channel, w.value]]);
    return { kind: 'raise', alarm: warningAlarm(w, byChannel), byChannel, firstOnChannel: true };
  }
  const before = s.byChannel.get(channel);
  const byChannel = new Map(s.byChannel);
  byChannel.set(channel, w.value);
  const next = warningAlarm(w, byChannel);
  if (before !== undefined && warningAlarm(w, s.byChannel).cause === next.cause) return { kind: 'same' };
  return { kind: 'update', id: s.id, alarm: next, byChannel, firstOnChannel: before === undefined };
}

/** The words of a device FAULT's alarm: what happened on which channel (0: the whole device), and what to do. */
export function faultAlarm(code: string, ch: number): { readonly cause: string; readonly action: string; readonly channel?: number } {
  const what: Readonly<Record<string, readonly [string, string]>> = {
    OPEN: [`Channel ${ch} open circuit`, 'check the clip on the needle, then clear'],
    COMPLIANCE: [`Channel ${ch} reached the compliance voltage (the load is too high for the amplitude)`, 'check needle contact and depth, then clear'],
    OVERCURRENT: ['Device over-current: every output is off', 'remove the needles from the circuit and check the device'],
    INTERNAL: ['Device internal fault: every output is off', 'stop using the device and report it'],
  };
  const [cause, action] = what[code] ?? [`Device fault ${code}`, 'check the device'];
  return { cause, action, ...(ch === 0 ? {} : { channel: ch }) };
}
