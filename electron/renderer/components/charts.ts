/**
 * Charts drawn with uPlot (never hand-drawn canvas code): the live amplitude chart of the session
 * and the waveform preview of the protocol editor. Each sits in a <figure> with a caption in words;
 * the numbers that matter are also on the page as text.
 */
// uPlot is the chart library the issue asks for (#5: "a proper chart library such as uPlot"); the
// layering rule allows the renderer only the contract, so this one package import is exempted here.
import uPlot from 'uplot';
import { h, uid } from '../dom.js';
import { num } from '../../../src/domain/format.js';
import { pulseOutline } from '../protocol-model.js';
import { type ChartSeries, marksText } from '../chart-model.js';

/** Channel colours (Okabe-Ito, distinguishable with colour-vision deficiencies); the legend names them. */
export const CHANNEL_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000', '#999999'];
const AXIS = { stroke: '#39424e', grid: { stroke: '#dfe4ea', width: 1 }, ticks: { stroke: '#c5ccd4', width: 1 }, font: '14px system-ui, sans-serif', labelFont: '600 14px system-ui, sans-serif' };

function colourOf(channel: number): string {
  return CHANNEL_COLOURS[(channel - 1) % CHANNEL_COLOURS.length] ?? '#000000';
}

/** Keeps a chart as wide as its container. */
function fitWidth(container: HTMLElement, chart: () => uPlot | undefined, height: number): ResizeObserver {
  const ro = new ResizeObserver(() => {
    const u = chart();
    const width = Math.floor(container.clientWidth);
    if (u && width > 0 && Math.abs(u.width - width) > 1) u.setSize({ width, height });
  });
  ro.observe(container);
  return ro;
}

export class LiveChart {
  readonly el: HTMLElement;
  readonly #plotBox: HTMLElement;
  readonly #height = 260;
  #chart: uPlot | undefined;
  #channels: readonly number[] = [];
  #pending: ChartSeries | undefined;
  /** The marks drawn now (read by the draw hook). */
  #marks: Pick<ChartSeries, 'pauses' | 'phases'> = { pauses: [], phases: [] };
  readonly #marksLine: HTMLElement;
  #frame = 0;
  readonly #ro: ResizeObserver;

  constructor() {
    const captionId = uid('cap');
    this.#plotBox = h('div', { class: 'plot', role: 'img', 'aria-labelledby': captionId });
    this.#marksLine = h('span', { class: 'chart-marks' });
    this.el = h(
      'figure',
      { class: 'chart live-chart' },
      h(
        'figcaption',
        { id: captionId },
        'Amplitude over the last 60 s: measured (solid line) and target (dashed) per channel, in mA. Output off (a pause) reads 0 mA in a grey band; a phase change is a vertical line. ',
        this.#marksLine,
      ),
      // The y axis title is page text above the axis, not canvas text: laid out (and checked for
      // fitting, by the e2e layout check) like every other label; uPlot drew it rotated in a fixed
      // strip where it was cut (issue 13 section 2). Hidden from assistive tech: the caption says it.
      h('div', { class: 'axis-title axis-title-y', 'aria-hidden': 'true' }, 'Amplitude (mA)'),
      this.#plotBox,
    );
    this.#ro = fitWidth(this.#plotBox, () => this.#chart, this.#height);
  }

  /** Rebuild for a set of channels (when the protocol changes). */
  setChannels(channels: readonly number[]): void {
    if (channels.length === this.#channels.length && channels.every((c, i) => c === this.#channels[i])) return;
    this.#channels = [...channels];
    this.#chart?.destroy();
    const series: uPlot.Series[] = [{ label: 'Time', value: (_u, v) => (v === null ? '—' : `${num(v, 1)} s`) }];
    for (const c of channels) {
      series.push({ label: `Ch ${c} measured`, stroke: colourOf(c), width: 2.5, points: { show: false }, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} mA`), spanGaps: true });
      series.push({ label: `Ch ${c} target`, stroke: colourOf(c), width: 1.5, dash: [8, 6], points: { show: false }, value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} mA`), spanGaps: true });
    }
    const width = Math.max(320, Math.floor(this.#plotBox.clientWidth) || 640);
    this.#chart = new uPlot(
      {
        width,
        height: this.#height,
        series,
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(2, Math.ceil((max ?? 0) * 1.2))] } },
        axes: [
          { ...AXIS, label: 'Time (s)', values: (_u, ticks) => ticks.map((t) => num(t, 1)) },
          { ...AXIS, size: 48 },
        ],
        cursor: { drag: { x: false, y: false } },
        legend: { live: false },
        hooks: { draw: [(u) => this.#drawMarks(u)] },
      },
      [[], ...channels.flatMap(() => [[], []])],
      this.#plotBox,
    );
  }

  /**
   * New data; drawn at most once per animation frame. The plotted series are also on the plot's
   * `data-plotted` attribute (JSON: x, then measured and target per channel) and the marks on
   * `data-marks`, so a test reads what was drawn, not what was sent.
   */
  setData(series: ChartSeries): void {
    this.#pending = series;
    if (this.#frame !== 0) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      const next = this.#pending;
      this.#pending = undefined;
      if (!next || !this.#chart) return;
      this.#marks = { pauses: next.pauses, phases: next.phases };
      this.#chart.setData(next.columns as uPlot.AlignedData);
      this.#plotBox.dataset.plotted = JSON.stringify(next.columns);
      this.#plotBox.dataset.marks = JSON.stringify(this.#marks);
      this.#marksLine.textContent = marksText(next, (v) => num(v, 1));
    });
  }

  /** Pauses as grey bands labelled "Paused", phase changes as labelled vertical lines. */
  #drawMarks(u: uPlot): void {
    const { pauses, phases } = this.#marks;
    if (pauses.length === 0 && phases.length === 0) return;
    const ctx = u.ctx;
    const { top, height, left, width } = u.bbox;
    const xMax = u.scales.x?.max ?? 0;
    const pos = (t: number): number => Math.min(left + width, Math.max(left, u.valToPos(t, 'x', true)));
    const dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.font = `${Math.round(13 * dpr)}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    for (const p of pauses) {
      const x0 = pos(p.from);
      const x1 = pos(p.to ?? xMax);
      ctx.fillStyle = 'rgba(57,66,78,0.14)';
      ctx.fillRect(x0, top, Math.max(x1 - x0, 2 * dpr), height);
      ctx.fillStyle = '#39424e';
      ctx.fillText('Paused', x0 + 4 * dpr, top + 4 * dpr);
    }
    ctx.strokeStyle = '#39424e';
    ctx.lineWidth = 1.5 * dpr;
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    for (const m of phases) {
      const x = pos(m.t);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.fillStyle = '#39424e';
      ctx.fillText(m.label, x + 4 * dpr, top + 20 * dpr);
    }
    ctx.restore();
  }

  destroy(): void {
    this.#ro.disconnect();
    if (this.#frame !== 0) cancelAnimationFrame(this.#frame);
    this.#chart?.destroy();
    this.#chart = undefined;
  }
}

/** One charge-balanced biphasic pulse at the phase's maximum amplitude. */
export class PulsePreview {
  readonly el: HTMLElement;
  readonly #plotBox: HTMLElement;
  readonly #caption: HTMLElement;
  readonly #height = 150;
  #chart: uPlot | undefined;
  readonly #ro: ResizeObserver;

  constructor() {
    const captionId = uid('cap');
    this.#caption = h('figcaption', { id: captionId });
    this.#plotBox = h('div', { class: 'plot', role: 'img', 'aria-labelledby': captionId });
    this.el = h('figure', { class: 'chart pulse-preview' }, this.#caption, this.#plotBox);
    this.#ro = fitWidth(this.#plotBox, () => this.#chart, this.#height);
  }

  update(waveform: string, pulseWidthUs: number | undefined, amplitudeMa: number | undefined): void {
    const pw = typeof pulseWidthUs === 'number' && Number.isFinite(pulseWidthUs) && pulseWidthUs > 0 ? pulseWidthUs : undefined;
    const a = typeof amplitudeMa === 'number' && Number.isFinite(amplitudeMa) && amplitudeMa > 0 ? amplitudeMa : undefined;
    if (pw === undefined || a === undefined) {
      this.#caption.textContent = 'Waveform preview: give a pulse width and a maximum amplitude to see one pulse.';
      this.#chart?.destroy();
      this.#chart = undefined;
      return;
    }
    const asym = waveform === 'biphasic-asymmetric';
    const q = (a * pw) / 1000;
    this.#caption.textContent = asym
      ? `One asymmetric biphasic pulse at ${num(a)} mA: ${num(pw)} µs cathodic phase, then a longer, lower anodic phase with the same ${num(q, 3)} µC, so no net charge (illustrative shape: 1/4 of the current for 4 times as long).`
      : `One symmetric biphasic pulse at ${num(a)} mA: ${num(pw)} µs per phase, ${num(q, 3)} µC each way, so no net charge.`;
    const { x, y } = pulseOutline(waveform, pw, a);
    const data: uPlot.AlignedData = [x, y];
    const width = Math.max(280, Math.floor(this.#plotBox.clientWidth) || 420);
    this.#chart?.destroy();
    this.#chart = new uPlot(
      {
        width,
        height: this.#height,
        series: [{ label: 'Time', value: (_u, v) => (v === null ? '—' : `${num(v, 0)} µs`) }, { label: 'Current', stroke: '#0072B2', width: 2.5, fill: 'rgba(0,114,178,0.12)', points: { show: false }, value: (_u, v) => (v === null ? '—' : `${num(v, 2)} mA`) }],
        scales: { x: { time: false }, y: { range: () => [-a * 1.25, a * 1.25] } },
        axes: [
          { ...AXIS, label: 'µs', values: (_u, ticks) => ticks.map((t) => num(t, 0)) },
          { ...AXIS, label: 'mA', size: 56, splits: () => (asym ? [-a, 0, a / 4] : [-a, 0, a]), values: (_u, ticks) => ticks.map((t) => num(t, 2)) },
        ],
        legend: { show: false },
        cursor: { show: false },
      },
      data,
      this.#plotBox,
    );
  }

  destroy(): void {
    this.#ro.disconnect();
    this.#chart?.destroy();
  }
}
