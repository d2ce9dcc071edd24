/**
 * The course charts of the Patients screen, drawn with uPlot like the live chart
 * (components/charts.ts): x is the session number, one series per line. Each sits in a <figure>
 * whose caption says what it shows; the numbers themselves are in the timeline table beside it.
 */
import uPlot from 'uplot';
import { h, uid } from '../dom.js';
import { CHANNEL_COLOURS } from '../components/charts.js';
import { num } from '../../../src/domain/format.js';

const AXIS = { stroke: '#39424e', grid: { stroke: '#dfe4ea', width: 1 }, ticks: { stroke: '#c5ccd4', width: 1 }, font: '14px system-ui, sans-serif', labelFont: '600 14px system-ui, sans-serif' };

export interface CourseSeries {
  readonly label: string;
  readonly colour: string;
  readonly dash?: number[];
  readonly unit: string;
}

export interface CourseChartOptions {
  readonly caption: string;
  readonly yLabel: string;
  /** Fixed y range (NPRS 0-10), or undefined to fit from 0 to a little above the highest value. */
  readonly yRange?: readonly [number, number];
  readonly decimals: number;
}

/** A line chart over the sessions of a course. */
export class CourseChart {
  readonly el: HTMLElement;
  readonly #plotBox: HTMLElement;
  readonly #opts: CourseChartOptions;
  readonly #height = 240;
  #chart: uPlot | undefined;
  readonly #ro: ResizeObserver;

  constructor(opts: CourseChartOptions) {
    this.#opts = opts;
    const captionId = uid('cap');
    this.#plotBox = h('div', { class: 'plot', role: 'img', 'aria-labelledby': captionId });
    this.el = h('figure', { class: 'chart course-chart' }, h('figcaption', { id: captionId }, opts.caption), this.#plotBox);
    this.#ro = new ResizeObserver(() => {
      const width = Math.floor(this.#plotBox.clientWidth);
      if (this.#chart && width > 0 && Math.abs(this.#chart.width - width) > 1) this.#chart.setSize({ width, height: this.#height });
    });
    this.#ro.observe(this.#plotBox);
  }

  /** Draw the series over the sessions (columns[0] are the session numbers). */
  update(series: readonly CourseSeries[], columns: readonly (readonly (number | null)[])[]): void {
    this.#chart?.destroy();
    const { yRange, decimals } = this.#opts;
    const width = Math.max(320, Math.floor(this.#plotBox.clientWidth) || 640);
    this.#chart = new uPlot(
      {
        width,
        height: this.#height,
        series: [
          { label: 'Session', value: (_u, v) => (v === null ? '—' : `session ${num(v, 0)}`) },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: 2.5,
            ...(s.dash ? { dash: s.dash } : {}),
            points: { show: true, size: 8 },
            spanGaps: true,
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${num(v, decimals)}${s.unit}`),
          })),
        ],
        scales: {
          x: { time: false, range: (_u, min, max) => [Math.min(min ?? 1, 1) - 0.5, Math.max(max ?? 1, 1) + 0.5] },
          y: { range: yRange ? () => [yRange[0], yRange[1]] : (_u, _min, max) => [0, Math.max(2, Math.ceil((max ?? 0) * 1.2))] },
        },
        axes: [
          { ...AXIS, label: 'Session', incrs: [1, 2, 5, 10], values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
          { ...AXIS, label: this.#opts.yLabel, size: 60 },
        ],
        cursor: { drag: { x: false, y: false } },
      },
      columns as uPlot.AlignedData,
      this.#plotBox,
    );
  }

  destroy(): void {
    this.#ro.disconnect();
    this.#chart?.destroy();
    this.#chart = undefined;
  }
}

export function channelColour(channel: number): string {
  return CHANNEL_COLOURS[(channel - 1) % CHANNEL_COLOURS.length] ?? '#000000';
}
