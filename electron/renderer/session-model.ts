/**
 * What the session screens show, derived from the contract's snapshot and telemetry, as pure
 * functions: port order, the output status line, time and progress, alarm presentation, and the
 * rolling telemetry buffer behind the live chart.
 */
import type { CallOutput, Snapshot, Telemetry } from '../../src/app/contract.js';
import { ma } from '../../src/domain/format.js';
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
 * Hold-to-repeat at a safe rate: the first press acts at once; held, it repeats after `delayMs`
 * every `intervalMs`, and never while the previous change is still being applied. A keyboard
 * click (`tap`) acts at most once per `intervalMs`, so a held Enter key (which auto-repeats at
 * ~30 Hz) repeats at the same safe rate. Timers and the clock are injected so the logic is tested
 * without waiting.
 */
export class HoldRepeat {
  readonly #act: () => Promise<unknown>;
  readonly #timers: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };
  readonly #delayMs: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #handle: unknown;
  #held = false;
  #busy = false;
  #lastFire = -Infinity;

  constructor(
    act: () => Promise<unknown>,
    options: {
      delayMs?: number;
      intervalMs?: number;
      timers?: { set: (fn: () => void, ms: number) => unknown; clear: (handle: unknown) => void };
      now?: () => number;
    } = {},
  ) {
    this.#act = act;
    this.#delayMs = options.delayMs ?? 600;
    this.#intervalMs = options.intervalMs ?? 400;
    this.#timers = options.timers ?? { set: (fn, ms) => setTimeout(fn, ms), clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
    this.#now = options.now ?? (() => performance.now());
  }

  /** One activation from the keyboard: acts unless the last one was under `intervalMs` ago. */
  tap(): void {
    if (this.#held || this.#now() - this.#lastFire < this.#intervalMs) return;
    this.#fire();
  }

  get held(): boolean {
    return this.#held;
  }

  press(): void {
    if (this.#held) return;
    this.#held = true;
    this.#fire();
    this.#schedule(this.#delayMs);
  }

  release(): void {
    this.#held = false;
    if (this.#handle !== undefined) this.#timers.clear(this.#handle);
    this.#handle = undefined;
  }

  #schedule(ms: number): void {
    this.#handle = this.#timers.set(() => {
      this.#handle = undefined;
      if (!this.#held) return;
      this.#fire();
      this.#schedule(this.#intervalMs);
    }, ms);
  }

  #fire(): void {
    if (this.#busy) return;
    this.#busy = true;
    this.#lastFire = this.#now();
    this.#act().then(
      () => {
        this.#busy = false;
      },
      () => {
        this.#busy = false;
      },
    );
  }
}
