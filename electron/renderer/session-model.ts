/**
 * What the session screens show, derived from the contract's snapshot and telemetry, as pure
 * functions: port order, the output status line, time and progress, alarm presentation, and the
 * rolling telemetry buffer behind the live chart.
 */
import type { CallOutput, Snapshot, Telemetry } from '../../src/app/contract.js';
import { ma } from '../../src/domain/format.js';
import { HARD_LIMITS } from '../../src/domain/safety/limits.js';
import { type ChartEvent, type ChartSeries, buildChartSeries } from './chart-model.js';

export type Port = CallOutput<'listPorts'>[number];
export type Alarm = Snapshot['alarms'][number];
export type ChannelView = Snapshot['channels'][number];
export type SessionState = Snapshot['state'];

/** Likely stimulators first; when there is none, the simulator first; then the rest by label. */
export function orderPorts(ports: readonly Port[]): Port[] {
  const hardware = ports.some((p) => p.kind === 'serial' && p.likelyStimulator);
  const rank = (p: Port): number => {
    if (p.kind === 'serial' && p.likelyStimulator) return 0;
    if (p.kind === 'simulator') return hardware ? 1 : -1;
    return 2;
  };
  return [...ports].sort((a, b) => rank(a) - rank(b) || a.label.localeCompare(b.label));
}

/**
 * The session's state sets, from the core (src/session/states.ts via the contract), under the
 * renderer's names: output on (or about to be), a session in progress (output on, ramping or
 * paused), a session that has ended.
 */
export { OUTPUT_MAY_BE_ON as ACTIVE_STATES, OUTPUT_STATES, TERMINAL_STATES as ENDED_STATES } from '../../src/app/contract.js';

/** One channel's output status in words: "OUTPUT ON 4.2 mA" or "Output off". */
export function channelOutputText(c: Pick<ChannelView, 'on' | 'measuredMa' | 'commandedMa'>): string {
  return c.on ? `OUTPUT ON ${ma(c.measuredMa ?? c.commandedMa)}` : 'Output off';
}

/** Is current flowing anywhere? */
export function anyOutput(s: Snapshot | undefined): boolean {
  return s !== undefined && s.channels.some((c) => c.on);
}

/** The whole device's output status for the header: "OUTPUT ON 4.2 mA" (the highest channel) or "Output off". */
export function outputSummary(s: Snapshot | undefined): { on: boolean; text: string } {
  if (!s || !anyOutput(s)) return { on: false, text: 'Output off' };
  const on = s.channels.filter((c) => c.on);
  const highest = Math.max(...on.map((c) => c.measuredMa ?? c.commandedMa));
  return { on: true, text: `OUTPUT ON ${ma(highest)}${on.length < s.channels.length ? ` (${on.length} of ${s.channels.length} channels)` : ''}` };
}

/** Session time: remaining seconds and the fraction done (0..1). */
export function progress(s: Pick<Snapshot, 'elapsedS' | 'totalS'>): { remainingS: number; fraction: number } {
  const total = Math.max(0, s.totalS);
  const elapsed = Math.min(total, Math.max(0, s.elapsedS));
  return { remainingS: total - elapsed, fraction: total > 0 ? elapsed / total : 0 };
}

export interface AlarmView {
  readonly id: string;
  readonly priority: Alarm['priority'];
  /** "High priority alarm" etc.: the priority in words (colour is never the only signal). */
  readonly priorityText: string;
  readonly icon: 'stop' | 'warning' | 'info';
  /** "Channel 2: <cause>" */
  readonly title: string;
  /** "Next: <action>" */
  readonly action: string;
}

const PRIORITY_RANK: Record<Alarm['priority'], number> = { high: 0, medium: 1, low: 2 };

/** Alarms as shown: highest priority first, then the oldest first; each with its words and icon. */
export function alarmViews(alarms: readonly Alarm[]): AlarmView[] {
  return [...alarms]
    .sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.atMs - b.atMs)
    .map((a) => ({
      id: a.id,
      priority: a.priority,
      priorityText: a.priority === 'high' ? 'High priority alarm' : a.priority === 'medium' ? 'Medium priority alarm' : 'Low priority alarm',
      icon: a.priority === 'high' ? 'stop' : a.priority === 'medium' ? 'warning' : 'info',
      title: a.channel !== undefined && !/\bchannels?\s\d/i.test(a.cause) ? `Channel ${a.channel}: ${a.cause}` : a.cause,
      action: `Next: ${a.action}`,
    }));
}

/** What the end of a session says, in words. */
export function endText(s: Pick<Snapshot, 'state' | 'reason'>): string {
  const why = s.reason ? `: ${s.reason}` : '';
  if (s.state === 'completed') return `Session completed${why}.`;
  if (s.state === 'stopped') return `Session stopped${why}.`;
  if (s.state === 'aborted') return `Session aborted${why}.`;
  return '';
}

// ---- telemetry -----------------------------------------------------------------------------------

/** A channel's target as shown: never above the channel's maximum (the device cannot go there). */
export function shownTargetMa(c: Pick<ChannelView, 'targetMa' | 'maxMa'>): number {
  return Math.min(c.targetMa, c.maxMa);
}

/** "1.1 / 2.1 mA" from numbers (one decimal, as the cards). */
function slashMa(values: readonly number[]): string {
  return `${values.map((v) => v.toFixed(1)).join(' / ')} mA`;
}

/**
 * The Amplitude panel's dose line for the channels the titration acts on (`scope`: one channel, or
 * undefined for all): "Target 1.0 mA on all channels · maximum 10.0 mA" when they agree, "Targets
 * 1.1 / 2.1 mA on channels 1 / 2 · maximum 10.0 mA" when they differ; every target is shown at most
 * at its channel's maximum. Empty with no channels.
 */
export function doseLine(channels: readonly Pick<ChannelView, 'channel' | 'targetMa' | 'maxMa'>[], scope: number | undefined): string {
  const cs = scope === undefined ? channels : channels.filter((c) => c.channel === scope);
  if (cs.length === 0) return '';
  const targets = cs.map((c) => shownTargetMa(c));
  const maxima = cs.map((c) => c.maxMa);
  const same = (xs: readonly number[]) => xs.every((x) => x.toFixed(1) === xs[0]!.toFixed(1));
  const where = cs.length === 1 ? `on channel ${cs[0]!.channel}` : same(targets) ? 'on all channels' : `on channels ${cs.map((c) => c.channel).join(' / ')}`;
  const target = same(targets) ? `Target ${ma(targets[0])}` : `Targets ${slashMa(targets)}`;
  const maximum = same(maxima) ? `maximum ${ma(maxima[0])}` : `maxima ${slashMa(maxima)}`;
  return `${target} ${where} · ${maximum}`;
}

/**
 * What a titration's refusals say, in words, one sentence per channel ("Channel 2 not changed:
 * it is at its 10 mA maximum."); empty when every channel took the step.
 */
export function refusalText(refused: readonly { readonly channel: number; readonly reason: string }[]): string {
  return [...refused]
    .sort((a, b) => a.channel - b.channel)
    .map((r) => `Channel ${r.channel} not changed: ${r.reason.replace(/\.$/, '')}.`)
    .join(' ');
}

/**
 * The last `windowS` seconds of telemetry per channel, as the column arrays uPlot draws: x (s since
 * the first sample), then measured and target per channel. Samples arrive per channel at 10 Hz;
 * each x row holds the latest value of every channel at that time (null where a channel has none).
 */
export class TelemetryBuffer {
  readonly #windowS: number;
  #channels: number[] = [];
  #t0: number | undefined;
  #rows: { t: number; measured: Map<number, number>; target: Map<number, number> }[] = [];
  #events: ChartEvent[] = [];
  /** The last sample's device time (ms) and when it arrived (our clock, ms): maps our clock onto the device's. */
  #last: { atMs: number; receivedMs: number } | undefined;
  /** What the last snapshot said: per channel on/off, paused, phase index. */
  #seen: { on: Map<number, boolean>; paused: boolean; phase: number | undefined } = { on: new Map(), paused: false, phase: undefined };
  readonly #now: () => number;

  constructor(windowS = 60, now: () => number = () => performance.now()) {
    this.#windowS = windowS;
    this.#now = now;
  }

  get channels(): readonly number[] {
    return this.#channels;
  }

  clear(): void {
    this.#channels = [];
    this.#t0 = undefined;
    this.#rows = [];
    this.#events = [];
    this.#last = undefined;
    this.#seen = { on: new Map(), paused: false, phase: undefined };
  }

  /**
   * Note what a snapshot says about output and phase: a channel going off or on, a pause, a
   * resume, a new phase, each as a mark at the time it was seen. Snapshots carry no device time,
   * so the time is the last sample's device time plus what has passed on our clock since it
   * arrived (the same machine or LAN: milliseconds off at most, against a 10 Hz sample rate).
   * Returns true when a mark was added (the chart redraws: no telemetry comes while paused).
   */
  noteSnapshot(s: Pick<Snapshot, 'state' | 'channels' | 'phase'>): boolean {
    const now = this.#timeNow();
    const t = now ?? 0;
    const seen = this.#seen;
    const marks: ChartEvent[] = [];
    for (const c of s.channels) {
      const was = seen.on.get(c.channel);
      if (was === c.on) continue;
      seen.on.set(c.channel, c.on);
      if (was !== undefined || !c.on) marks.push(c.on ? { t, kind: 'on', channel: c.channel } : { t, kind: 'off', channel: c.channel });
    }
    const paused = s.state === 'paused';
    if (paused !== seen.paused) {
      seen.paused = paused;
      marks.push(paused ? { t, kind: 'pause' } : { t, kind: 'resume' });
    }
    if (s.phase && s.phase.index !== seen.phase) {
      // The first phase is where the chart starts: only later ones are changes worth a mark.
      if (seen.phase !== undefined) marks.push({ t, kind: 'phase', label: `Phase ${s.phase.index + 1}: ${s.phase.name}` });
      seen.phase = s.phase.index;
    }
    // Before the first sample there is no time base: the starting state is all that counts.
    if (now !== undefined) this.#events.push(...marks);
    return marks.length > 0 && now !== undefined;
  }

  #timeNow(): number | undefined {
    if (this.#last === undefined || this.#t0 === undefined) return undefined;
    const atMs = this.#last.atMs + (this.#now() - this.#last.receivedMs);
    return Math.round(atMs - this.#t0) / 1000;
  }

  /** Set the channels shown (from the snapshot); samples of other channels are ignored. Returns true when they changed. */
  setChannels(channels: readonly number[]): boolean {
    const sorted = [...channels].sort((a, b) => a - b);
    if (sorted.length === this.#channels.length && sorted.every((c, i) => c === this.#channels[i])) return false;
    this.#channels = sorted;
    return true;
  }

  add(sample: Telemetry): void {
    if (!this.#channels.includes(sample.channel)) return;
    this.#t0 ??= sample.atMs;
    this.#last = { atMs: sample.atMs, receivedMs: this.#now() };
    const t = Math.round(sample.atMs - this.#t0) / 1000;
    // Samples of different channels within 50 ms share a row (they are one 10 Hz tick).
    let row = this.#rows[this.#rows.length - 1];
    if (!row || t - row.t >= 0.05 || row.measured.has(sample.channel)) {
      if (row && t < row.t) return; // out of order: drop
      row = { t, measured: new Map(), target: new Map() };
      this.#rows.push(row);
    }
    row.measured.set(sample.channel, sample.measuredMa);
    row.target.set(sample.channel, sample.targetMa);
    const from = t - this.#windowS;
    while (this.#rows.length > 0 && this.#rows[0]!.t < from) this.#rows.shift();
    // Marks older than the window still set the starting state (a pause that began before it);
    // keep the last of each kind per channel, drop the rest.
    if (this.#events.length > 64) this.#events = this.#events.filter((e, i, all) => e.t >= from || !all.slice(i + 1).some((l) => l.t < from && sameSubject(l, e)));
  }

  /** What the chart plots: the rows with off time drawn as 0 mA, and the pause and phase marks. */
  series(): ChartSeries {
    return buildChartSeries(this.#rows, this.#channels, this.#events);
  }

  /** [x, measured ch1, target ch1, measured ch2, target ch2, ...] */
  columns(): (number | null)[][] {
    const x = this.#rows.map((r) => r.t);
    const cols: (number | null)[][] = [x];
    for (const c of this.#channels) {
      cols.push(this.#rows.map((r) => r.measured.get(c) ?? null));
      cols.push(this.#rows.map((r) => r.target.get(c) ?? null));
    }
    return cols;
  }
}

/** Two marks about the same thing (one channel's output, the pause, the phase). */
function sameSubject(a: ChartEvent, b: ChartEvent): boolean {
  const subject = (e: ChartEvent): string => (e.kind === 'off' || e.kind === 'on' ? `ch${e.channel}` : e.kind === 'phase' ? 'phase' : 'pause');
  return subject(a) === subject(b);
}

// ---- titration -----------------------------------------------------------------------------------

export type TitrationStep = 0.1 | -0.1 | 0.5 | -0.5;

/**
 * The titration rule, one for every input (issue 16 §4): a click, a tap, Enter and Space alike.
 *
 * - Every press is one step; none is dropped. Steps are sent in the order pressed, one at a time
 *   (the next when the controller has answered the last), so a fast clinician's five presses are
 *   five steps, as five clicks always were. (Keyboard presses within 400 ms of the last used to be
 *   discarded silently: five Enter presses 100 ms apart applied 2.)
 * - A decrease is never kept waiting behind increases: increases not yet sent are dropped, and
 *   said so, when a decrease is pressed; so are steps not yet sent when output stops.
 * - Held (mouse, finger, Enter or Space), a button repeats its step after TITRATION_HOLD_DELAY_MS,
 *   then every `titrationRepeatMs(step)`, until released. Repeats never pile up: at most one waits
 *   behind a step still being applied, and one still waiting when the button is let go is not sent.
 *
 * Why queued and not rate-limited: a press is a deliberate, counted action against the patient's
 * feedback ("two more"), and a step dropped leaves the clinician believing in a dose that was not
 * set. How fast current rises is not decided here: a press moves only the target, and the ramp
 * approaches it at no more than `amplitudeRiseMaxMaPerS` (src/session/ramp.ts, re-checked by the
 * guard in src/domain/safety for every AMP), whatever the rate of presses.
 */
export class TitrationInput {
  readonly #send: (step: TitrationStep) => Promise<unknown>;
  readonly #timers: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };
  readonly #onDropped: (count: number, why: string) => void;
  readonly #onPress: () => void;
  /** Steps pressed and not yet sent, in order; `repeat` marks one a held button added. */
  readonly #queue: { readonly step: TitrationStep; readonly repeat: boolean }[] = [];
  #busy = false;
  #held: TitrationStep | undefined;
  #handle: unknown;

  constructor(
    send: (step: TitrationStep) => Promise<unknown>,
    options: {
      timers?: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };
      /** Steps pressed and then not sent, and why ("a decrease was pressed"). */
      onDropped?: (count: number, why: string) => void;
      /** A new press or tap (not a repeat), before its step is queued: what was said of earlier steps is old news. */
      onPress?: () => void;
    } = {},
  ) {
    this.#send = send;
    this.#timers = options.timers ?? { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
    this.#onDropped = options.onDropped ?? (() => undefined);
    this.#onPress = options.onPress ?? (() => undefined);
  }

  /** The step held down, if any. */
  get held(): TitrationStep | undefined {
    return this.#held;
  }

  /** Steps pressed and not yet sent (the one being applied not counted). */
  get queued(): number {
    return this.#queue.length;
  }

  /** A press begins (pointer down; Enter or Space down): one step now, repeated while held. */
  press(step: TitrationStep): void {
    if (this.#held === step) return;
    this.release();
    this.#held = step;
    this.#onPress();
    this.#enqueue(step);
    this.#schedule(step, TITRATION_HOLD_DELAY_MS);
  }

  /** The press ends (pointer up or lost; the key up; the button loses focus): a repeat not yet sent is not sent. */
  release(): void {
    this.#held = undefined;
    if (this.#handle !== undefined) this.#timers.clear(this.#handle);
    this.#handle = undefined;
    this.#keep((q) => !q.repeat);
  }

  /** An activation with no press before it (a click from assistive technology): one step. */
  tap(step: TitrationStep): void {
    this.#onPress();
    this.#enqueue(step);
  }

  /** Output can no longer be titrated (paused, stopped, ended): the hold ends, steps not yet sent are dropped. */
  stop(why: string): void {
    this.release();
    const n = this.#keep(() => false);
    if (n > 0) this.#onDropped(n, why);
  }

  /** Keep only the queued steps `keep` accepts; returns how many pressed (not repeated) steps went. */
  #keep(keep: (q: { readonly step: TitrationStep; readonly repeat: boolean }) => boolean): number {
    const gone = this.#queue.filter((q) => !keep(q));
    const kept = this.#queue.filter(keep);
    this.#queue.length = 0;
    this.#queue.push(...kept);
    return gone.filter((q) => !q.repeat).length;
  }

  #enqueue(step: TitrationStep, repeat = false): void {
    if (step < 0) {
      const ups = this.#keep((q) => q.step < 0);
      if (ups > 0) this.#onDropped(ups, 'a decrease was pressed');
    }
    this.#queue.push({ step, repeat });
    this.#pump();
  }

  #pump(): void {
    if (this.#busy) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#busy = true;
    const done = () => {
      this.#busy = false;
      this.#pump();
    };
    this.#send(next.step).then(done, done);
  }

  #schedule(step: TitrationStep, ms: number): void {
    this.#handle = this.#timers.set(() => {
      this.#handle = undefined;
      if (this.#held !== step) return;
      // At most one repeat waits behind a step still being applied: a slow answer never piles up steps.
      if (!this.#queue.some((q) => q.repeat)) this.#enqueue(step, true);
      this.#schedule(step, titrationRepeatMs(step));
    }, ms);
  }
}

/**
 * A held titration button (or key) repeats after this long, ms. Longer than a press that lingers
 * (a finger, a slow key release) lasts, so one press is one step; about the delay of an operating
 * system's own key repeat (500-660 ms), so holding feels the same on every input.
 */
export const TITRATION_HOLD_DELAY_MS = 600;

/**
 * Then it repeats every this many ms at most: 400 ms, slow enough to count the steps and to let go
 * at the patient's word (0.1 mA steps rise the target 0.25 mA/s, a quarter of the slew limit).
 */
export const TITRATION_REPEAT_MS = 400;

/**
 * The repeat interval of a held step: TITRATION_REPEAT_MS, and for a rise never less than the step
 * takes at the slew limit (`amplitudeRiseMaxMaPerS`): +0.5 mA every 500 ms. So a held button never
 * moves the target ahead of what the current can follow, and when it is let go the current stops
 * rising within one step. (The ramp limits the current whatever this is; this keeps the target the
 * clinician sees close to the current the patient feels.)
 */
export function titrationRepeatMs(step: TitrationStep): number {
  if (step < 0) return TITRATION_REPEAT_MS;
  return Math.max(TITRATION_REPEAT_MS, Math.round((step / HARD_LIMITS.amplitudeRiseMaxMaPerS.value) * 1000));
}

/** What a step pressed and not sent says, in words (shown and announced politely). */
export function droppedText(count: number, why: string): string {
  return `${count} titration step${count === 1 ? '' : 's'} not sent: ${why}.`;
}
