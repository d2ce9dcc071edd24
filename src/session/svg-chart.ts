/**
 * The amplitude-over-time chart of a session report as inline SVG: one polyline per channel,
 * amplitude (mA) against session time (min), with phase boundaries and pauses marked. Colour is
 * never the only signal: each channel also has its own dash pattern and a text label at the end
 * of its line. The SVG scales to its container (viewBox, width 100%) so it never overflows a page.
 */
import { formatNumber } from '../domain/units.js';
import type { ChartModel } from './report-model.js';

const W = 680;
const H = 280;
const M = { left: 48, right: 44, top: 14, bottom: 40 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

/** Okabe-Ito colours (distinguishable with colour-vision deficiency) and dash patterns. */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const DASHES = ['', '6 3', '2 2', '8 3 2 3', '4 4', '1 3', '10 4', '3 1'];

export function channelStyle(index: number): { colour: string; dash: string } {
  return { colour: COLOURS[index % COLOURS.length]!, dash: DASHES[index % DASHES.length]! };
}

/** A step of 1, 2 or 5 x 10^k giving at most `maxTicks` intervals over `span`. */
export function niceStep(span: number, maxTicks: number): number {
  if (!(span > 0)) return 1;
  const raw = span / maxTicks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

export function renderAmplitudeChart(chart: ChartModel, escape: (s: string) => string, title: string): string {
  const xStep = niceStep(Math.max(chart.durationMin, 1), 10);
  const xMax = Math.max(xStep, Math.ceil(chart.durationMin / xStep - 1e-9) * xStep);
  const yStep = niceStep(Math.max(chart.maxMa, 1), 5);
  const yMax = Math.max(yStep, Math.ceil(chart.maxMa / yStep - 1e-9) * yStep);
  const x = (min: number) => fmt(M.left + (min / xMax) * PW);
  const y = (ma: number) => fmt(M.top + PH - (ma / yMax) * PH);

  const parts: string[] = [];
  parts.push(
    `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="chart-title" font-family="sans-serif" font-size="11">`,
    `<title id="chart-title">${escape(title)}</title>`,
  );
  for (const p of chart.pauses) {
    parts.push(`<rect x="${x(p.fromMin)}" y="${M.top}" width="${fmt(Math.max(0.5, ((p.toMin - p.fromMin) / xMax) * PW))}" height="${PH}" fill="#e8e8e8"/>`);
    parts.push(`<text x="${x(p.fromMin)}" y="${M.top + 10}" dx="2" fill="#444" font-size="9">paused</text>`);
  }
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    parts.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y(v)}" dy="4" text-anchor="end">${formatNumber(v, 2)}</text>`);
  }
  for (let v = 0; v <= xMax + 1e-9; v += xStep) {
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${M.top + PH}" y2="${M.top + PH + 4}" stroke="#333"/>`);
    parts.push(`<text x="${x(v)}" y="${M.top + PH + 16}" text-anchor="middle">${formatNumber(v, 2)}</text>`);
  }
  for (const mark of chart.phaseMarks) {
    parts.push(`<line x1="${x(mark.atMin)}" x2="${x(mark.atMin)}" y1="${M.top}" y2="${M.top + PH}" stroke="#777" stroke-dasharray="3 3"/>`);
    parts.push(`<text x="${x(mark.atMin)}" y="${M.top + 10}" dx="3" fill="#333" font-size="9">${escape(mark.name)}</text>`);
  }
  parts.push(
    `<line x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PH}" stroke="#333"/>`,
    `<text x="${M.left + PW / 2}" y="${H - 6}" text-anchor="middle">time since session start (min)</text>`,
    `<text transform="translate(12 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">amplitude (mA)</text>`,
  );
  chart.series.forEach((s, i) => {
    const { colour, dash } = channelStyle(i);
    const pts = s.points.map(([m, ma]) => `${x(m)},${y(ma)}`).join(' ');
    parts.push(
      `<polyline data-channel="${s.channel}" points="${pts}" fill="none" stroke="${colour}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''} stroke-linejoin="round"/>`,
    );
    const last = s.points[s.points.length - 1];
    if (last) {
      const ly = Number(y(last[1])) - 4 - i * 11;
      parts.push(`<text x="${fmt(M.left + PW + 3)}" y="${fmt(Math.max(M.top + 8, ly))}" fill="${colour}" font-size="10">Ch ${s.channel}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function fmt(n: number): string {
  return String(Math.round(n * 10) / 10);
}
