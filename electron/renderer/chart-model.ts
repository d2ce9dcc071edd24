/**
 * The series the live chart plots, built from the telemetry rows and the session's marks (pure, so
 * it is unit-tested without a canvas).
 *
 * Why marks at all: the device sends telemetry only while a channel's output is on, so a pause (or
 * a channel stopped on its own) leaves no samples, and a line chart joins the last sample before
 * the pause to the first one after it: a 6 s pause drew as a slow diagonal ramp from 2.5 mA to 0,
 * a dose that was never delivered (issue 16 section 6). Here an "off" mark puts the measured line
 * at 0 mA from the moment output went off until it came back on, so off time is drawn as off; the
 * pause and every phase change are also returned as marks for the chart to draw and name in words.
 */

/** One telemetry row: seconds since the first sample, and each channel's values at that time. */
export interface ChartRow {
  readonly t: number;
  readonly measured: ReadonlyMap<number, number>;
  readonly target: ReadonlyMap<number, number>;
}

/** Something that happened at `t` (seconds, on the rows' time base). */
export type ChartEvent =
  | { readonly t: number; readonly kind: 'off'; readonly channel: number }
  | { readonly t: number; readonly kind: 'on'; readonly channel: number }
  | { readonly t: number; readonly kind: 'pause' }
  | { readonly t: number; readonly kind: 'resume' }
  | { readonly t: number; readonly kind: 'phase'; readonly label: string };

export interface PauseBand {
  readonly from: number;
  /** Undefined while the pause lasts. */
  readonly to: number | undefined;
}

export interface PhaseMark {
  readonly t: number;
  readonly label: string;
}

export interface ChartSeries {
  /** [x, measured ch1, target ch1, measured ch2, target ch2, ...], as uPlot takes them. */
  readonly columns: (number | null)[][];
  readonly pauses: readonly PauseBand[];
  readonly phases: readonly PhaseMark[];
}

/**
 * Merge the rows and the off/on events into one time axis. A channel that is off reads 0 mA at
 * every point until it is on again (the point of the "on" event itself is 0 too, so the line rises
 * from 0 with the first sample after it). Targets are left as sent (null where no sample: the
 * chart spans those). Events before the first row are applied as the starting state, so a pause
 * that began before the window still draws as off.
 */
export function buildChartSeries(rows: readonly ChartRow[], channels: readonly number[], events: readonly ChartEvent[]): ChartSeries {
  const start = rows[0]?.t;
  const sortedEvents = [...events].sort((a, b) => a.t - b.t);
  type Point = { t: number; row: ChartRow | undefined; events: ChartEvent[] };
  const points: Point[] = rows.map((row) => ({ t: row.t, row, events: [] }));
  const off = new Set<number>();
  for (const e of sortedEvents) {
    if (start !== undefined && e.t < start) {
      // Before the window: only its effect on the starting state counts.
      if (e.kind === 'off') off.add(e.channel);
      else if (e.kind === 'on') off.delete(e.channel);
      continue;
    }
    if (e.kind !== 'off' && e.kind !== 'on') continue;
    // An event at a row's time belongs to that row; otherwise it is a point of its own.
    const at = points.findIndex((p) => p.t >= e.t);
    const existing = at === -1 ? undefined : points[at];
    if (existing && existing.t === e.t) existing.events.push(e);
    else if (at === -1) points.push({ t: e.t, row: undefined, events: [e] });
    else points.splice(at, 0, { t: e.t, row: undefined, events: [e] });
  }
  const x = points.map((p) => p.t);
  const columns: (number | null)[][] = [x];
  const measuredCols = channels.map(() => [] as (number | null)[]);
  const targetCols = channels.map(() => [] as (number | null)[]);
  for (const p of points) {
    // A channel reads 0 at a point where it was off just before or just after (so the point of an
    // "off" and of an "on" are both 0: the drop and the rise are drawn at those instants). A row's
    // own sample always wins: it was measured.
    const offBefore = new Set(off);
    applyEvents(p.events, off);
    channels.forEach((c, i) => {
      const sample = p.row?.measured.get(c);
      const wasOff = offBefore.has(c) || (p.row === undefined && off.has(c));
      measuredCols[i]!.push(sample ?? (wasOff ? 0 : null));
      targetCols[i]!.push(p.row?.target.get(c) ?? null);
    });
  }
  channels.forEach((_c, i) => columns.push(measuredCols[i]!, targetCols[i]!));

  const pauses: PauseBand[] = [];
  const phases: PhaseMark[] = [];
  let pausedFrom: number | undefined;
  for (const e of sortedEvents) {
    if (e.kind === 'pause') pausedFrom ??= e.t;
    else if (e.kind === 'resume' && pausedFrom !== undefined) {
      if (start === undefined || e.t >= start) pauses.push({ from: Math.max(pausedFrom, start ?? pausedFrom), to: e.t });
      pausedFrom = undefined;
    } else if (e.kind === 'phase' && (start === undefined || e.t >= start)) phases.push({ t: e.t, label: e.label });
  }
  if (pausedFrom !== undefined) pauses.push({ from: Math.max(pausedFrom, start ?? pausedFrom), to: undefined });
  return { columns, pauses, phases };
}

function applyEvents(events: readonly ChartEvent[], off: Set<number>): void {
  for (const e of events) {
    if (e.kind === 'off') off.add(e.channel);
    else if (e.kind === 'on') off.delete(e.channel);
  }
}

/** The marks in words, for the figure's caption (the chart is an image to a screen reader). */
export function marksText(series: ChartSeries, fmt: (s: number) => string): string {
  const parts: string[] = [];
  for (const p of series.pauses) parts.push(p.to === undefined ? `paused since ${fmt(p.from)} s (output off)` : `paused ${fmt(p.from)}–${fmt(p.to)} s (output off)`);
  for (const m of series.phases) parts.push(`${m.label} from ${fmt(m.t)} s`);
  return parts.length === 0 ? '' : `Marked: ${parts.join('; ')}.`;
}
