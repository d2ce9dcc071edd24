/**
 * The session report as one self-contained HTML page: no scripts, no external resources (styles
 * and the chart are inline), every string that came from the journal escaped. Laid out for print
 * on A4 and Letter: the page has 15 mm margins and nothing is wider than the narrower of the two
 * printable widths (A4: 180 mm); tables wrap long words and the chart scales to the page.
 */
import type { EvidenceGroup } from '../domain/protocols/evidence.js';
import {
  type ReportChannel,
  channelPlace,
  type ReportSource,
  type SessionReport,
  formatDuration,
  formatElapsed,
  formatNumber,
  formatOhm,
  formatWall,
} from './report-model.js';
import { channelStyle, renderAmplitudeChart } from './svg-chart.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const e = escapeHtml;

const CSS = `
@page { size: auto; margin: 15mm; }
* { box-sizing: border-box; }
html { font: 10pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #111; background: #fff; }
body { max-width: 180mm; margin: 0 auto; padding: 8mm 0; overflow-wrap: anywhere; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10.5pt; margin: 3mm 0 1mm; break-after: avoid; }
p, ul, dl { margin: 1mm 0 2mm; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: 1mm 0 3mm; }
th, td { text-align: left; vertical-align: top; padding: 1mm 1.5mm; border-bottom: 1px solid #ccc; overflow-wrap: anywhere; word-break: break-word; }
th { background: #f0f0f0; font-weight: 600; }
tr, figure, .notice, dl > div { break-inside: avoid; page-break-inside: avoid; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl { display: grid; grid-template-columns: 38mm minmax(0, 1fr); column-gap: 3mm; row-gap: 0.5mm; }
dl > div { display: contents; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 8.5pt; overflow-wrap: anywhere; word-break: break-all; }
figure { margin: 2mm 0; }
figure > svg { display: block; width: 100%; height: auto; max-width: 100%; }
figcaption { font-size: 9pt; color: #333; }
.legend span { display: inline-block; margin-right: 4mm; }
.swatch { display: inline-block; width: 10mm; height: 1.5mm; vertical-align: middle; margin-right: 1mm; }
.notice { border: 2px solid #a00; background: #fff0f0; padding: 2mm 3mm; margin: 2mm 0; }
.notice.mild { border-color: #a60; background: #fff8e8; }
.notice strong { display: block; }
.sev-alarm td:first-child::after { content: " ■"; color: #a00; }
.sev-alarm { font-weight: 600; }
.verified { color: #060; }
.unverified { color: #840; }
.claimed { color: #333; }
.aftercare { border: 1px solid #999; padding: 2mm 3mm; white-space: pre-wrap; }
.small { font-size: 8.5pt; color: #333; }
@media print { body { max-width: none; padding: 0; } }
`;

export function renderHtml(r: SessionReport): string {
  const title = `Session report ${r.session.patientRef ?? 'unknown patient'} ${r.session.startedIso?.slice(0, 10) ?? ''}`.trim();
  const body = [
    header(r),
    notices(r),
    sessionSection(r),
    protocolSection(r),
    deviceSection(r),
    screeningSection(r),
    chartSection(r),
    doseSection(r),
    eventsSection(r),
    endSection(r),
    aftercareSection(r),
    footer(r),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function header(r: SessionReport): string {
  const what = r.protocol ? e(r.protocol.name) : 'unknown protocol';
  return `<header>
<h1>Electrical dry needling session</h1>
<p>${what}, ${e(formatWall(r.session.startedIso))}${r.end ? `, ${e(r.end.reason)}` : ', not ended normally'}.</p>
</header>`;
}

function notices(r: SessionReport): string {
  if (r.integrity.notices.length === 0) return '';
  const cls = r.integrity.damaged ? 'notice' : 'notice mild';
  const head = r.integrity.damaged ? 'Warning: this record is damaged or incomplete' : 'Note on this record';
  return `<div class="${cls}" role="alert"><strong>${head}</strong><ul>${r.integrity.notices.map((n) => `<li>${e(n)}</li>`).join('')}</ul></div>`;
}

function dl(rows: readonly (readonly [string, string])[]): string {
  return `<dl>${rows.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

function sessionSection(r: SessionReport): string {
  const s = r.session;
  return `<section><h2>Patient and session</h2>${dl([
    ['Patient reference', s.patientRef === null ? 'unknown' : `<span class="mono">${e(s.patientRef)}</span>`],
    ['Clinician', s.clinician === null ? 'not recorded' : e(s.clinician)],
    ['Treated side', e(s.treatedSideText)],
    ['Date and time', e(formatWall(s.startedIso))],
    ['Session length', `${e(formatDuration(s.durationS))} (from the first to the last record)`],
    ['Session id', s.sessionId === null ? 'unknown' : `<span class="mono">${e(s.sessionId)}</span>`],
  ])}</section>`;
}

function protocolSection(r: SessionReport): string {
  const p = r.protocol;
  if (!p) return '<section><h2>Protocol</h2><p>Not recorded.</p></section>';
  const groups = (source: string | undefined) => p.evidence.groups.filter((g) => g.source === source);
  const unmarked = groups(undefined).map((g) => `<li>${evidenceLine(g)}</li>`).join('');
  const sources = p.sources.length === 0 && unmarked === '' ? '<p>No sources listed.</p>' : `<ul>${p.sources.map((s) => sourceItem(s, groups(s.key))).join('')}${unmarked}</ul>`;
  return `<section><h2>Protocol</h2>${dl([
    ['Name', e(p.name)],
    ['Id', `<span class="mono">${e(p.id)}</span>`],
    ['Content hash', `<span class="mono">${e(p.hash)}</span>`],
    ['Indication', e(p.indication)],
    ...(p.electrode ? [['Electrode', e(p.electrode)] as const] : []),
  ])}<h3>Sources</h3>${sources}</section>`;
}

function sourceItem(s: ReportSource, groups: readonly EvidenceGroup[]): string {
  const ids = [s.doi ? `doi ${e(s.doi)}` : '', s.registry ? `registry ${e(s.registry)}` : '', s.pmcid ? e(s.pmcid) : ''].filter(Boolean).join(', ');
  return `<li><strong>[${e(s.key)}]</strong> ${e(s.citation)}${ids ? ` (${ids})` : ''}${s.note ? `. ${e(s.note)}` : ''}${groups.map(evidenceLine).join('')}</li>`;
}

/** One source's verified or unverified values, in words (the same sentences the app shows). */
function evidenceLine(g: EvidenceGroup): string {
  if (g.status === 'verified') return `<div class="verified">✓ ${e(g.text)}</div>`;
  // A user protocol's "verified" is its author's claim: never the library's mark.
  if (g.status === 'claimed') return `<div class="claimed">${e(g.text)}</div>`;
  return `<div class="unverified">⚠ ${e(g.text)}</div>`;
}

function deviceSection(r: SessionReport): string {
  const d = r.device;
  if (!d) return '<section><h2>Device</h2><p>Not recorded.</p></section>';
  return `<section><h2>Device</h2>${dl([
    ['Model', e(d.model)],
    ['Serial number', `<span class="mono">${e(d.serial)}</span>`],
    ['Firmware', e(d.firmware)],
    ['Connection', `${e(d.transport)}, wire protocol version ${d.protocolVersion}, boot id <span class="mono">${e(d.bootId)}</span>`],
    ['Device limits', `${d.channels} channels, up to ${formatNumber(d.amplitudeMaxMa)} mA, compliance ${formatNumber(d.complianceV)} V, watchdog ${formatNumber(d.watchdogMs)} ms`],
  ])}</section>`;
}

function screeningSection(r: SessionReport): string {
  const s = r.screening;
  const electrodes = r.electrodeCheck
    ? `<h3>Electrode check</h3><table><thead><tr><th class="num" style="width:22mm">Channel</th><th style="width:40mm">Impedance</th><th>Result</th></tr></thead><tbody>${r.electrodeCheck
        .map((c) => `<tr><td class="num">${c.channel}</td><td>${e(formatOhm(c.impedanceOhm))}</td><td>${c.ok ? 'ok' : `blocked: ${e(c.reason ?? 'not usable')}`}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  if (!s) return `<section><h2>Screening</h2><p>Not recorded.</p>${electrodes}</section>`;
  const acks =
    s.acknowledged.length === 0
      ? '<p>No relative contraindication needed acknowledging.</p>'
      : `<p>Relative contraindications acknowledged by the clinician:</p><ul>${s.acknowledged.map((a) => `<li>${e(a.finding)}: acknowledged by ${e(a.by)} at ${e(formatWall(a.at))}</li>`).join('')}</ul>`;
  const answers =
    s.answers.length === 0
      ? ''
      : `<h3>Answers</h3><table class="small"><tbody>${s.answers.map((a) => `<tr><td>${e(a.question)}</td><td style="width:28mm">${e(a.answer)}</td></tr>`).join('')}</tbody></table>`;
  return `<section><h2>Screening</h2><p>Result: <strong>${e(s.status)}</strong> (no absolute contraindication; every question answered).</p>${acks}${answers}${electrodes}</section>`;
}

function chartSection(r: SessionReport): string {
  const title = 'Amplitude over time, per channel';
  const legend = r.chart.series
    .map((s, i) => {
      const { colour, dash } = channelStyle(i);
      const line = `<line x1="0" y1="3" x2="40" y2="3" stroke="${colour}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
      return `<span><svg class="swatch" viewBox="0 0 40 6" aria-hidden="true">${line}</svg>Channel ${s.channel}</span>`;
    })
    .join('');
  const basis = r.channels.some((c) => c.basis === 'measured')
    ? 'Lines show the mean measured current of each one-second telemetry summary; drops to 0 mA are the commanded stops and pauses.'
    : 'No telemetry was recorded: lines show the commanded amplitude.';
  return `<section><h2>Amplitude over time</h2><figure>${renderAmplitudeChart(r.chart, e, title)}<figcaption><div class="legend">${legend}</div>${basis}${
    r.chart.pauses.length > 0 ? ' Grey bands: paused.' : ''
  }${r.chart.phaseMarks.length > 0 ? ' Dashed vertical lines: phase changes.' : ''}</figcaption></figure></section>`;
}

function doseSection(r: SessionReport): string {
  const st = r.stimulation;
  const phases = `<table><thead><tr><th style="width:10mm" class="num">#</th><th style="width:34mm">Phase</th><th>Parameters</th><th class="num" style="width:22mm">Planned</th><th class="num" style="width:24mm">Delivered</th></tr></thead><tbody>${st.phases
    .map(
      (p) =>
        `<tr><td class="num">${p.index + 1}</td><td>${e(p.name)}</td><td>${p.parameters === null ? '' : e(p.parameters)}</td><td class="num">${p.plannedS === null ? '' : e(formatDuration(p.plannedS))}</td><td class="num">${e(formatDuration(p.stimulationS))}</td></tr>`,
    )
    .join('')}</tbody><tfoot><tr><th></th><th>Total</th><th>${st.basis === 'computed' ? 'computed from the state changes (no end record)' : ''}</th><th class="num">${
    st.plannedS === null ? '' : e(formatDuration(st.plannedS))
  }</th><th class="num">${e(formatDuration(st.totalS))}</th></tr></tfoot></table>`;
  const channels = `<table><thead><tr><th class="num" style="width:10mm">Ch</th><th>Placement</th><th class="num" style="width:20mm">Output time</th><th class="num" style="width:18mm">Max</th><th class="num" style="width:18mm">Mean</th><th class="num" style="width:22mm">Charge</th></tr></thead><tbody>${r.channels
    .map((c) => channelRow(c))
    .join('')}</tbody></table>`;
  const basis = r.channels.some((c) => c.basis === 'commanded')
    ? '<p class="small">Channels marked * had no telemetry: their amplitudes are the commanded values and their charge is unknown.</p>'
    : '';
  return `<section><h2>Stimulation delivered</h2><p>Total stimulation time <strong>${e(formatDuration(st.totalS))}</strong>${
    st.plannedS === null ? '' : ` of ${e(formatDuration(st.plannedS))} planned`
  }.</p>${phases}<h3>Per channel</h3>${channels}<p class="small">Max and mean are measured peak current while output was on; charge is the charge delivered in the cathodic phases, as counted by the device.</p>${basis}</section>`;
}

function channelRow(c: ReportChannel): string {
  const place = channelPlace(c);
  const sites = c.sites.length > 0 ? `: ${c.sites.join('; ')}` : '';
  const mark = c.basis === 'commanded' ? '*' : '';
  const ma = (v: number | null) => (v === null ? '–' : `${formatNumber(v, 2)} mA${mark}`);
  return `<tr><td class="num">${c.channel}</td><td>${e(place + sites) || 'not declared'}</td><td class="num">${e(formatDuration(c.outputS))}</td><td class="num">${ma(c.maxMa)}</td><td class="num">${ma(c.meanMa)}</td><td class="num">${
    c.chargeUc === null ? '–' : `${formatNumber(c.chargeUc, 1)} µC`
  }</td></tr>`;
}

function eventsSection(r: SessionReport): string {
  if (r.events.length === 0) return '<section><h2>Events</h2><p>None recorded.</p></section>';
  return `<section><h2>Events</h2><table><thead><tr><th style="width:18mm">Time</th><th style="width:22mm">UTC</th><th>Event</th></tr></thead><tbody>${r.events
    .map((ev) => `<tr class="sev-${ev.severity}"><td class="mono">${e(formatElapsed(ev.atS))}</td><td class="mono">${e(ev.iso.slice(11, 19))}</td><td>${e(ev.text)}</td></tr>`)
    .join('')}</tbody></table><p class="small">Time is elapsed since the session started (mm:ss). ■ marks stops, faults and alarms.</p></section>`;
}

function endSection(r: SessionReport): string {
  if (!r.end) return '<section><h2>End of session</h2><p><strong>No end record</strong>: the session did not end normally.</p></section>';
  return `<section><h2>End of session</h2><p><strong>${e(r.end.reason)}</strong>${r.end.detail ? `: ${e(r.end.detail)}` : ''} (final state ${e(r.end.finalState)}).</p></section>`;
}

function aftercareSection(r: SessionReport): string {
  return `<section><h2>Aftercare</h2>${r.aftercare === null ? '<p>Not recorded.</p>' : `<div class="aftercare">${e(r.aftercare)}</div>`}</section>`;
}

function footer(r: SessionReport): string {
  const i = r.integrity;
  const chain = i.chainIntact === null ? 'not checked' : i.chainIntact ? 'intact' : 'BROKEN';
  return `<footer class="small"><p>Generated from ${i.path === null ? 'journal records' : `<span class="mono">${e(i.path)}</span>`}: ${i.records} records, hash chain ${chain}${
    i.truncatedTail ? `, torn last line (${i.truncatedTail.bytes} bytes)` : ''
  }${r.session.appVersion ? `. EDN Controller ${e(r.session.appVersion)}` : ''}.</p></footer>`;
}
