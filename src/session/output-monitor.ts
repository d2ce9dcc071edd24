/**
 * The output monitor: what the host checks of what the device says it delivers. The device's
 * telemetry (`! TEL ch amp i z q`, PROTOCOL.md §7.3, every 100 ms per channel that is ON) is
 * compared with what the host commanded:
 *
 * - the device's own set point (`amp`) above the highest amplitude commanded: the device is set to
 *   something it was never asked for (exact, both are whole µA);
 * - the measured current (`i`) above the commanded set point, the phase's maxMa or the hard ceiling
 *   by more than the measurement tolerance (OUTPUT_MONITOR in limits.ts);
 * - no TEL for more than OUTPUT_MONITOR.telemetryMissingMs while a channel is on;
 * - a measured current implausibly low (below lowCurrentPercent of a commanded amplitude of at
 *   least lowCurrentMinMa) for lowCurrentMs in a row;
 * - current measured on a channel the host switched off more than offGraceMs ago (the device did
 *   not stop).
 *
 * Each finding is a verdict the runner turns into an e-stop, a high alarm and an abort. The first
 * two are found on the TEL line that shows them (so within one TEL period); the last two by
 * `check(now)` on the session loop (every 50 ms) or on the next TEL.
 *
 * "Commanded" is the highest amplitude the device may legitimately be at: an increase counts from
 * the moment it is sent (the device may apply it before its reply arrives), a decrease only once
 * the device has acknowledged it (until then the old, higher value may still be measured).
 */
import { HARD_LIMITS, OUTPUT_MONITOR, measuredToleranceMa } from '../domain/safety/limits.js';

export type MonitorFinding = 'setpoint-above-commanded' | 'over-commanded' | 'over-protocol' | 'over-ceiling' | 'telemetry-lost' | 'current-low' | 'current-while-off';

export interface MonitorVerdict {
  readonly finding: MonitorFinding;
  readonly channel: number;
  /** What the device reported (mA), when the finding is about a reported value. */
  readonly measuredMa?: number;
  /** The value it was compared with (mA), or the time without telemetry (ms). */
  readonly limitMa?: number;
  readonly silentMs?: number;
  /** A further sample of a finding already reported (current after off keeps being recorded). */
  readonly repeat?: boolean;
  /** The alarm's cause and next action, in words. */
  readonly cause: string;
  readonly action: string;
}

interface ChannelWatch {
  on: boolean;
  /** Highest amplitude the device may be at now, mA (see the header). */
  ceilingMa: number;
  /** The last amplitude the device acknowledged, mA. */
  commandedMa: number;
  /** When output was last known on, or the last TEL, host ms. */
  lastTelAt: number;
  /** Since when every TEL read implausibly low, host ms (undefined: the last one did not). */
  lowSince: number | undefined;
  /** A verdict was given for this channel since it went on (one is enough: output is going off). */
  judged: boolean;
  /** When the host switched the channel off (host ms), while it is off. */
  offAt: number | undefined;
  /** Current after off was reported for this channel since it went off. */
  offJudged: boolean;
}

export class OutputMonitor {
  readonly #channels = new Map<number, ChannelWatch>();

  /** The channel was STARTed at `startMa` (the staged amplitude) and acknowledged at `atMs`. */
  on(channel: number, startMa: number, atMs: number): void {
    this.#channels.set(channel, { on: true, ceilingMa: startMa, commandedMa: startMa, lastTelAt: atMs, lowSince: undefined, judged: false, offAt: undefined, offJudged: false });
  }

  /** Output off on the channel at `atMs` (STOP, pause, e-stop, fault, DONE): from now on it must measure nothing. */
  off(channel: number, atMs: number): void {
    const c = this.#channels.get(channel);
    if (!c || !c.on) return;
    c.on = false;
    c.offAt = atMs;
    c.offJudged = false;
  }

  allOff(atMs: number): void {
    for (const channel of this.#channels.keys()) this.off(channel, atMs);
  }

  /** An AMP to `ma` is about to be sent: an increase may be measured from now on. */
  commanding(channel: number, ma: number): void {
    const c = this.#channels.get(channel);
    if (c) c.ceilingMa = Math.max(c.ceilingMa, ma);
  }

  /** The device acknowledged AMP `ma`: from now on it must be at most there. */
  acknowledged(channel: number, ma: number): void {
    const c = this.#channels.get(channel);
    if (!c) return;
    c.ceilingMa = ma;
    c.commandedMa = ma;
    c.lowSince = undefined;
  }

  /** A TEL line: set point and measured current in µA. Returns a verdict if the device is not to be believed. */
  telemetry(channel: number, setpointUa: number, measuredUa: number, atMs: number, protocolMaxMa: number): MonitorVerdict | undefined {
    const c = this.#channels.get(channel);
    if (!c) return undefined;
    if (!c.on) return this.#judgeOff(channel, c, measuredUa, atMs);
    c.lastTelAt = atMs;
    if (c.judged) return undefined;
    const measuredMa = measuredUa / 1000;
    const setpointMa = setpointUa / 1000;
    const hard = HARD_LIMITS.amplitudeMaxMa.value;
    const over = (limitMa: number) => measuredMa > limitMa + measuredToleranceMa(limitMa) + 1e-9;
    let verdict: MonitorVerdict | undefined;
    if (over(hard)) {
      verdict = this.#over('over-ceiling', channel, measuredMa, hard, `the ${hard} mA ceiling for needle electrodes`);
    } else if (over(protocolMaxMa)) {
      verdict = this.#over('over-protocol', channel, measuredMa, protocolMaxMa, `the protocol's maximum of ${fmt(protocolMaxMa)} mA`);
    } else if (over(c.ceilingMa)) {
      verdict = this.#over('over-commanded', channel, measuredMa, c.ceilingMa, `the commanded ${fmt(c.ceilingMa)} mA`);
    } else if (setpointUa > Math.round(c.ceilingMa * 1000)) {
      verdict = {
        finding: 'setpoint-above-commanded',
        channel,
        measuredMa: setpointMa,
        limitMa: c.ceilingMa,
        cause: `Channel ${channel}: the device reports its set point at ${fmt(setpointMa)} mA, above the commanded ${fmt(c.ceilingMa)} mA`,
        action: 'output is off; do not use this device until it has been checked',
      };
    }
    if (verdict) {
      c.judged = true;
      return verdict;
    }
    return this.#judgeLow(channel, c, measuredMa, atMs);
  }

  /** The session loop's look at every channel that is on: telemetry gone quiet, current too low for too long. */
  check(atMs: number): MonitorVerdict[] {
    const out: MonitorVerdict[] = [];
    for (const [channel, c] of this.#channels) {
      if (!c.on || c.judged) continue;
      const silentMs = atMs - c.lastTelAt;
      if (silentMs > OUTPUT_MONITOR.telemetryMissingMs.value) {
        c.judged = true;
        out.push({
          finding: 'telemetry-lost',
          channel,
          silentMs,
          cause: `Channel ${channel}: no telemetry from the device for ${Math.round(silentMs)} ms while output is on (the link to the device or its output stage is lost)`,
          action: 'output is off; check the device and its cable before another session',
        });
        continue;
      }
      if (c.lowSince !== undefined && atMs - c.lowSince >= OUTPUT_MONITOR.lowCurrentMs.value) {
        c.judged = true;
        out.push(this.#low(channel, c, atMs));
      }
    }
    return out;
  }

  #judgeOff(channel: number, c: ChannelWatch, measuredUa: number, atMs: number): MonitorVerdict | undefined {
    if (c.offAt === undefined || atMs - c.offAt < OUTPUT_MONITOR.offGraceMs.value) return undefined;
    const measuredMa = measuredUa / 1000;
    if (measuredMa <= measuredToleranceMa(0)) return undefined;
    const repeat = c.offJudged;
    c.offJudged = true;
    return {
      finding: 'current-while-off',
      channel,
      repeat,
      measuredMa,
      limitMa: 0,
      cause: `Channel ${channel}: the device still measures ${fmt(measuredMa)} mA ${Math.round(atMs - c.offAt)} ms after output was switched off`,
      action: 'disconnect the needles from the device now; do not use this device until it has been checked',
    };
  }

  #judgeLow(channel: number, c: ChannelWatch, measuredMa: number, atMs: number): MonitorVerdict | undefined {
    const low = c.commandedMa >= OUTPUT_MONITOR.lowCurrentMinMa.value && measuredMa < (OUTPUT_MONITOR.lowCurrentPercent.value / 100) * c.commandedMa;
    if (!low) {
      c.lowSince = undefined;
      return undefined;
    }
    c.lowSince ??= atMs;
    if (atMs - c.lowSince < OUTPUT_MONITOR.lowCurrentMs.value) return undefined;
    c.judged = true;
    return this.#low(channel, c, atMs);
  }

  #low(channel: number, c: ChannelWatch, atMs: number): MonitorVerdict {
    return {
      finding: 'current-low',
      channel,
      limitMa: c.commandedMa,
      cause: `Channel ${channel}: the device measures almost no current (below ${OUTPUT_MONITOR.lowCurrentPercent.value} % of the commanded ${fmt(c.commandedMa)} mA) for ${Math.round(atMs - (c.lowSince ?? atMs))} ms (a lost or faulty output stage)`,
      action: 'output is off; check the clips, the needles and the device before another session',
    };
  }

  #over(finding: MonitorFinding, channel: number, measuredMa: number, limitMa: number, what: string): MonitorVerdict {
    return {
      finding,
      channel,
      measuredMa,
      limitMa,
      cause: `Channel ${channel}: the device measures ${fmt(measuredMa)} mA, above ${what} (tolerance ${fmt(measuredToleranceMa(limitMa))} mA)`,
      action: 'output is off; check the patient, and do not use this device until it has been checked',
    };
  }
}

function fmt(ma: number): string {
  return (Math.round(ma * 1000) / 1000).toString();
}
