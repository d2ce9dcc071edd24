/**
 * The course report as Markdown, as one self-contained HTML page (no scripts, no external
 * resources, every string escaped; printable on A4 and Letter: 15 mm margins, nothing wider than
 * A4's 180 mm, rows never split across pages), and as JSON (the model itself).
 */
import { formatNumber } from '../domain/units.js';
import { escapeHtml as e } from '../session/report-html.js';
import type { CourseReport, CourseReportSession } from './report.js';

export const COURSE_REPORT_FORMATS = ['html', 'md', 'json', 'csv', 'fhir'] as const;
export type CourseReportFormat = (typeof COURSE_REPORT_FORMATS)[number];

const date = (iso: string | null) => (iso === null ? '—' : iso.slice(0, 10));
const time = (iso: string | null) => (iso === null ? '' : `${iso.slice(11, 16)} UTC`);
const n = (x: number | null, unit = '') => (x === null ? '—' : `${formatNumber(x)}${unit}`);
const duration = (s: number | null) => (s === null ? '—' : s >= 60 ? `${formatNumber(s / 60, 1)} min` : `${formatNumber(s, 0)} s`);
const status = (r: CourseReport) => `${r.course.status}${r.course.statusReason ? ` (${r.course.statusReason})` : ''}`;

function amplitudes(s: CourseReportSession): string {
  return s.channels.length === 0 ? '—' : s.channels.map((c) => `ch${c.channel} ${n(c.maxMa, ' mA')}`).join(', ');
}
function charges(s: CourseReportSession): string {
  return s.channels.length === 0 ? '—' : s.channels.map((c) => `ch${c.channel} ${n(c.chargeUc, ' µC')}`).join(', ');
}
function adverse(s: CourseReportSession): string {
  return s.adverseEffects === null ? 'not asked' : s.adverseEffects.length === 0 ? 'none' : s.adverseEffects.join('; ');
}
function ended(s: CourseReportSession): string {
  return s.endReason === null ? 'cut short (no end recorded)' : `${s.endReason}${s.endDetail ? ` (${s.endDetail})` : ''}`;
}

export function renderCourseMarkdown(r: CourseReport): string {
  const md = (t: string) => t.replace(/([\\|*_`[\]<>])/g, '\\$1');
  const lines: string[] = [];
  lines.push(`# Course report: ${md(r.course.protocol.name)}`, '');
  for (const notice of r.notices) lines.push(`> **Note:** ${md(notice)}`, '');
  lines.push(
    `- Patient: ${md(r.patientRef)}`,
    `- Course: ${r.course.id}, ${md(status(r))}`,
    `- Indication: ${md(r.course.indication)}`,
    `- Protocol: ${md(r.course.protocol.id)} (sha256 \`${r.course.protocol.hash}\`)`,
    `- Planned: ${r.course.plannedSessions} sessions, every ${r.course.intervalDays} days, from ${r.course.startDate}`,
    `- Done: ${r.course.sessionsDone} of ${r.course.plannedSessions}${r.course.nextDue ? `; next due ${r.course.nextDue}` : ''}`,
    `- Generated: ${r.generatedAt}`,
    '',
  );
  if (r.course.notes.length > 0) {
    lines.push('## Notes', '');
    for (const note of r.course.notes) lines.push(`- ${date(note.at)}: ${md(note.text)}`);
    lines.push('');
  }
  lines.push('## Sessions', '', '| # | date | side | NPRS before → after | stimulation | max amplitude | charge | adverse effects | end | stops and alarms |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const s of r.sessions) {
    lines.push(
      `| ${s.number}${s.milestone ? ' (milestone)' : ''} | ${date(s.startedAt)} ${time(s.startedAt)} | ${md(s.sideText)} | ${n(s.nprsBefore)} → ${n(s.nprsAfter)} | ${duration(s.stimulationS)} | ${amplitudes(s)} | ${charges(s)} | ${md(adverse(s))} | ${md(ended(s))} | ${s.stops.length === 0 ? 'none' : md(s.stops.join('; '))} |`,
    );
  }
  lines.push('');
  const milestone = r.sessions.flatMap((s) => s.outcomes.filter((o) => o.instrumentId !== 'nprs').map((o) => ({ s, o })));
  if (milestone.length > 0) {
    lines.push('## Milestone measures', '');
    for (const { s, o } of milestone) {
      lines.push(`- Session ${s.number}, ${md(o.instrumentName)} ${md(o.instrumentVersion)}: ${o.scores.map((x) => `${md(x.name)} ${formatNumber(x.value)}${x.unit === 'points' ? '' : ` ${x.unit}`}`).join(', ')}${o.items ? ` (${o.items.map((i) => `${md(i.activity)} ${i.rating}`).join('; ')})` : ''}`);
    }
    lines.push('');
  }
  lines.push('## Outcome changes', '');
  if (r.changes.length === 0) lines.push('Not enough recordings yet to compare.');
  for (const c of r.changes) lines.push(`- ${md(c.instrumentName)}, ${md(c.scoreName)} (${md(c.basis)}): ${formatNumber(c.change.from)} → ${formatNumber(c.change.to)}, ${md(c.change.text)}`);
  lines.push('', '## Adverse events', '');
  if (r.adverseEvents.length === 0) lines.push('None recorded.');
  for (const a of r.adverseEvents) lines.push(`- Session ${a.session} (${date(a.at)}): ${md(a.text)}`);
  lines.push('', '## Aftercare', '', r.aftercare === null ? 'No aftercare text (no journal could be read).' : md(r.aftercare), '');
  return `${lines.join('\n')}\n`;
}

const CSS = `
@page { size: auto; margin: 15mm; }
* { box-sizing: border-box; }
html { font: 10pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #111; background: #fff; }
body { max-width: 180mm; margin: 0 auto; padding: 8mm 0; overflow-wrap: anywhere; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; break-after: avoid; page-break-after: avoid; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: 1mm 0 3mm; font-size: 9pt; }
th, td { text-align: left; vertical-align: top; padding: 1mm 1.2mm; border-bottom: 1px solid #ccc; overflow-wrap: anywhere; word-break: break-word; }
th { background: #f0f0f0; font-weight: 600; }
tr, figure, .notice, dl > div { break-inside: avoid; page-break-inside: avoid; }
dl { display: grid; grid-template-columns: 38mm minmax(0, 1fr); column-gap: 3mm; row-gap: 0.5mm; margin: 1mm 0 2mm; }
dl > div { display: contents; }
dt { font-weight: 600; }
dd { margin: 0; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 8pt; word-break: break-all; }
figure { margin: 2mm 0; }
figure > svg { display: block; width: 100%; height: auto; }
.notice { border: 2px solid #a00; background: #fff0f0; padding: 2mm 3mm; margin: 2mm 0; }
.important { color: #060; font-weight: 600; }
.aftercare { border: 1px solid #999; padding: 2mm 3mm; white-space: pre-wrap; }
@media print { body { max-width: none; padding: 0; } }
`;

/** NPRS before (filled) and after (open) each session, 0-10, as an inline SVG. */
function painChart(r: CourseReport): string {
  const points = r.sessions.filter((s) => s.nprsBefore !== null || s.nprsAfter !== null);
  if (points.length === 0) return '';
  const W = 680;
  const H = 200;
  const left = 40;
  const bottom = 30;
  const count = Math.max(r.course.plannedSessions, ...r.sessions.map((s) => s.number));
  const x = (k: number) => left + ((k - 0.5) / count) * (W - left - 10);
  const y = (v: number) => 10 + (1 - v / 10) * (H - bottom - 10);
  const grid = [0, 2, 4, 6, 8, 10].map((v) => `<line x1="${left}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v}</text>`).join('');
  const line = (key: 'nprsBefore' | 'nprsAfter') =>
    points
      .filter((s) => s[key] !== null)
      .map((s) => `${x(s.number).toFixed(1)},${y(s[key]!).toFixed(1)}`)
      .join(' ');
  const dots = points
    .flatMap((s) => [
      s.nprsBefore === null ? '' : `<circle cx="${x(s.number).toFixed(1)}" cy="${y(s.nprsBefore).toFixed(1)}" r="4" fill="#a00"/>`,
      s.nprsAfter === null ? '' : `<circle cx="${x(s.number).toFixed(1)}" cy="${y(s.nprsAfter).toFixed(1)}" r="4" fill="#fff" stroke="#05a" stroke-width="2"/>`,
    ])
    .join('');
  const labels = r.sessions.map((s) => `<text x="${x(s.number).toFixed(1)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${s.number}</text>`).join('');
  return `<figure><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="Pain (NPRS 0-10) before and after each session"><title>Pain (NPRS 0-10) before and after each session</title>${grid}<polyline points="${line('nprsBefore')}" fill="none" stroke="#a00" stroke-width="2"/><polyline points="${line('nprsAfter')}" fill="none" stroke="#05a" stroke-width="2" stroke-dasharray="5 3"/>${dots}${labels}<text x="${(W + left) / 2}" y="${H - 2}" text-anchor="middle" font-size="11">session</text></svg><figcaption>Pain now, NPRS 0-10: <strong>before</strong> the session (red, filled) and <strong>after</strong> it (blue, open, dashed). Lower is better.</figcaption></figure>`;
}

export function renderCourseHtml(r: CourseReport): string {
  const rows = r.sessions
    .map(
      (s) =>
        `<tr><td>${s.number}${s.milestone ? '<br><small>milestone</small>' : ''}<br><small>side: ${e(s.sideText)}</small></td><td>${e(date(s.startedAt))}<br><small>${e(time(s.startedAt))}</small></td><td>${e(n(s.nprsBefore))} → ${e(n(s.nprsAfter))}</td><td>${e(duration(s.stimulationS))}</td><td>${e(amplitudes(s))}</td><td>${e(charges(s))}</td><td>${e(adverse(s))}</td><td>${e(ended(s))}${s.stops.length > 0 ? `<br><small>${s.stops.map(e).join('<br>')}</small>` : ''}</td></tr>`,
    )
    .join('\n');
  const changes =
    r.changes.length === 0
      ? '<p>Not enough recordings yet to compare.</p>'
      : `<table><thead><tr><th>measure</th><th>compared</th><th>from → to</th><th>change</th></tr></thead><tbody>${r.changes
          .map(
            (c) =>
              `<tr><td>${e(c.instrumentName)}, ${e(c.scoreName)}</td><td>${e(c.basis)}</td><td>${formatNumber(c.change.from)} → ${formatNumber(c.change.to)}</td><td${c.change.clinicallyImportant ? ' class="important"' : ''}>${e(c.change.text)}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const milestone = r.sessions.flatMap((s) => s.outcomes.filter((o) => o.instrumentId !== 'nprs').map((o) => ({ s, o })));
  const milestoneHtml =
    milestone.length === 0
      ? ''
      : `<h2>Milestone measures</h2><table><thead><tr><th>session</th><th>instrument</th><th>scores</th></tr></thead><tbody>${milestone
          .map(
            ({ s, o }) =>
              `<tr><td>${s.number}</td><td>${e(o.instrumentName)} <small>${e(o.instrumentVersion)}</small></td><td>${o.scores.map((x) => `${e(x.name)} ${formatNumber(x.value)}${x.unit === 'points' ? '' : ` ${e(x.unit)}`}`).join(', ')}${o.items ? `<br><small>${o.items.map((i) => `${e(i.activity)} ${i.rating}`).join('; ')}</small>` : ''}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const field = (k: string, v: string) => `<div><dt>${k}</dt><dd>${v}</dd></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Course report ${e(r.course.id)}: ${e(r.patientRef)}</title><style>${CSS}</style></head>
<body>
<h1>Course report: ${e(r.course.protocol.name)}</h1>
${r.notices.map((x) => `<div class="notice" role="alert"><strong>Note</strong>${e(x)}</div>`).join('\n')}
<dl>
${field('Patient', e(r.patientRef))}
${field('Course', `${e(r.course.id)}, ${e(status(r))}`)}
${field('Indication', e(r.course.indication))}
${field('Protocol', `${e(r.course.protocol.id)} <code>sha256 ${e(r.course.protocol.hash)}</code>`)}
${field('Planned', `${r.course.plannedSessions} sessions, every ${r.course.intervalDays} days, from ${e(r.course.startDate)}`)}
${field('Done', `${r.course.sessionsDone} of ${r.course.plannedSessions}${r.course.nextDue ? `; next due ${e(r.course.nextDue)}` : ''}`)}
${field('Generated', e(r.generatedAt))}
</dl>
${r.course.notes.length === 0 ? '' : `<h2>Notes</h2><ul>${r.course.notes.map((x) => `<li>${e(date(x.at))}: ${e(x.text)}</li>`).join('')}</ul>`}
<h2>Sessions</h2>
${painChart(r)}
<table><thead><tr><th style="width:8%">#</th><th style="width:11%">date</th><th style="width:11%">NPRS before → after</th><th style="width:9%">stimulation</th><th style="width:14%">max amplitude</th><th style="width:14%">charge</th><th style="width:13%">adverse effects</th><th>end, stops and alarms</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${milestoneHtml}
<h2>Outcome changes</h2>
${changes}
<h2>Adverse events</h2>
${r.adverseEvents.length === 0 ? '<p>None recorded.</p>' : `<ul>${r.adverseEvents.map((a) => `<li>Session ${a.session} (${e(date(a.at))}): ${e(a.text)}</li>`).join('')}</ul>`}
<h2>Aftercare</h2>
<div class="aftercare">${r.aftercare === null ? 'No aftercare text (no journal could be read).' : e(r.aftercare)}</div>
</body></html>
`;
}

export function renderCourseJson(r: CourseReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
