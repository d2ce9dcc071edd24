/**
 * The session report as Markdown (CommonMark with pipe tables), for a terminal, an e-mail or a
 * records system that takes text. Every string from the journal is escaped, so a note cannot add
 * HTML, links, emphasis or table cells. The amplitude chart becomes a table of the mean amplitude
 * per channel over time.
 */
import {
  channelPlace,
  type ChartModel,
  type SessionReport,
  formatDuration,
  formatElapsed,
  formatNumber,
  formatOhm,
  formatWall,
} from './report-model.js';

/**
 * Journal text made inert in Markdown. `<`, `>` and `&` become the entities `&lt;`, `&gt;` and
 * `&amp;`: every Markdown flavour (CommonMark, GFM, Markdown.pl, Python-Markdown) shows an entity
 * as the character and none reads it as a tag, whereas a backslash before `<` is an escape only in
 * CommonMark (Markdown.pl and Python-Markdown keep the backslash and pass `<img onerror=...>` on as
 * HTML). Every other character that could start inline markup, a link or a table cell is
 * backslash-escaped (CommonMark allows escaping any ASCII punctuation), as (for text that begins a
 * line) a leading character that would start a list or heading, and line breaks become spaces so
 * a value stays on its line or in its table cell. Dashes, quotes and brackets elsewhere stay as
 * they are so the text reads well unrendered.
 */
export function escapeMarkdown(text: string, atLineStart = false): string {
  const inline = text.replace(/\r\n|\r|\n/g, ' ').replace(/[\\`*_{}[\]<>#|~&]/g, (c) => HTML_ENTITIES[c] ?? `\\${c}`);
  return atLineStart ? inline.replace(/^([-+=])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2') : inline;
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;' };

const m = escapeMarkdown;

export function renderMarkdown(r: SessionReport): string {
  const out: string[] = [];
  const line = (s = '') => out.push(s);

  line('# Electrical dry needling session');
  line();
  line(`${r.protocol ? m(r.protocol.name, true) : 'Unknown protocol'}, ${m(formatWall(r.session.startedIso))}${r.end ? `, ${m(r.end.reason)}` : ', not ended normally'}.`);
  line();
  if (r.integrity.notices.length > 0) {
    line(r.integrity.damaged ? '> **WARNING: this record is damaged or incomplete.**' : '> **Note on this record:**');
    for (const n of r.integrity.notices) line(`> - ${m(n)}`);
    line();
  }

  const s = r.session;
  line('## Patient and session');
  line();
  line(`- **Patient reference:** ${s.patientRef === null ? 'unknown' : code(s.patientRef)}`);
  line(`- **Clinician:** ${s.clinician === null ? 'not recorded' : m(s.clinician)}`);
  line(`- **Treated side:** ${m(s.treatedSideText)}`);
  line(`- **Date and time:** ${m(formatWall(s.startedIso))}`);
  line(`- **Session length:** ${formatDuration(s.durationS)} (from the first to the last record)`);
  line(`- **Session id:** ${s.sessionId === null ? 'unknown' : code(s.sessionId)}`);
  line();

  line('## Protocol');
  line();
  const p = r.protocol;
  if (!p) line('Not recorded.');
  else {
    line(`- **Name:** ${m(p.name)}`);
    line(`- **Id:** ${code(p.id)}`);
    line(`- **Content hash:** ${code(p.hash)}`);
    line(`- **Indication:** ${m(p.indication)}`);
    if (p.electrode) line(`- **Electrode:** ${m(p.electrode)}`);
    line();
    line('### Sources');
    line();
    if (p.sources.length === 0) line('No sources listed.');
    for (const src of p.sources) {
      const ids = [src.doi ? `doi ${m(src.doi)}` : '', src.registry ? `registry ${m(src.registry)}` : '', src.pmcid ? m(src.pmcid) : ''].filter(Boolean).join(', ');
      line(`- **\\[${m(src.key)}\\]** ${m(src.citation)}${ids ? ` (${ids})` : ''}${src.note ? `. ${m(src.note)}` : ''}`);
      for (const g of p.evidence.groups.filter((x) => x.source === src.key)) line(`  - ${g.status === 'verified' ? '✓ ' : g.status === 'claimed' ? '' : '⚠ '}${m(g.text)}`);
    }
    // Stimulation values no source mentions: defaults the clinician confirmed, said so.
    for (const g of p.evidence.groups.filter((x) => x.source === undefined)) line(`- ⚠ ${m(g.text)}`);
  }
  line();

  line('## Device');
  line();
  const d = r.device;
  if (!d) line('Not recorded.');
  else {
    line(`- **Model:** ${m(d.model)}, serial ${code(d.serial)}, firmware ${m(d.firmware)}`);
    line(`- **Connection:** ${m(d.transport)}, wire protocol version ${d.protocolVersion}, boot id ${code(d.bootId)}`);
    line(`- **Device limits:** ${d.channels} channels, up to ${formatNumber(d.amplitudeMaxMa)} mA, compliance ${formatNumber(d.complianceV)} V, watchdog ${formatNumber(d.watchdogMs)} ms`);
  }
  line();

  line('## Screening');
  line();
  const sc = r.screening;
  if (!sc) line('Not recorded.');
  else {
    line(`Result: **${m(sc.status)}** (no absolute contraindication; every question answered).`);
    line();
    if (sc.acknowledged.length === 0) line('No relative contraindication needed acknowledging.');
    else {
      line('Relative contraindications acknowledged by the clinician:');
      line();
      for (const a of sc.acknowledged) line(`- ${m(a.finding)}: acknowledged by ${m(a.by)} at ${m(formatWall(a.at))}`);
    }
    if (sc.answers.length > 0) {
      line();
      line('Answers:');
      line();
      for (const a of sc.answers) line(`- ${m(a.question)} **${m(a.answer)}**`);
    }
  }
  line();
  if (r.electrodeCheck) {
    line('### Electrode check');
    line();
    line('| Channel | Impedance | Result |');
    line('|--:|---|---|');
    for (const c of r.electrodeCheck) line(`| ${c.channel} | ${formatOhm(c.impedanceOhm)} | ${c.ok ? 'ok' : `blocked: ${m(c.reason ?? 'not usable')}`} |`);
    line();
  }

  line('## Amplitude over time');
  line();
  out.push(...amplitudeTable(r.chart));
  line();

  const st = r.stimulation;
  line('## Stimulation delivered');
  line();
  line(`Total stimulation time **${formatDuration(st.totalS)}**${st.plannedS === null ? '' : ` of ${formatDuration(st.plannedS)} planned`}${
    st.basis === 'computed' ? ' (computed from the state changes: there is no end record)' : ''
  }.`);
  line();
  line('| # | Phase | Parameters | Planned | Delivered |');
  line('|--:|---|---|--:|--:|');
  for (const ph of st.phases) {
    line(`| ${ph.index + 1} | ${m(ph.name)} | ${ph.parameters === null ? '' : m(ph.parameters)} | ${ph.plannedS === null ? '' : formatDuration(ph.plannedS)} | ${formatDuration(ph.stimulationS)} |`);
  }
  line();
  line('### Per channel');
  line();
  line('| Ch | Placement | Output time | Max | Mean | Charge |');
  line('|--:|---|--:|--:|--:|--:|');
  for (const c of r.channels) {
    const place = channelPlace(c) + (c.sites.length > 0 ? `: ${c.sites.join('; ')}` : '');
    const mark = c.basis === 'commanded' ? '\\*' : '';
    const ma = (v: number | null) => (v === null ? '–' : `${formatNumber(v, 2)} mA${mark}`);
    line(`| ${c.channel} | ${place ? m(place) : 'not declared'} | ${formatDuration(c.outputS)} | ${ma(c.maxMa)} | ${ma(c.meanMa)} | ${c.chargeUc === null ? '–' : `${formatNumber(c.chargeUc, 1)} µC`} |`);
  }
  line();
  line('Max and mean are measured peak current while output was on; charge is the charge delivered in the cathodic phases, as counted by the device.');
  if (r.channels.some((c) => c.basis === 'commanded')) line('Channels marked \\* had no telemetry: their amplitudes are the commanded values and their charge is unknown.');
  line();

  line('## Events');
  line();
  if (r.events.length === 0) line('None recorded.');
  else {
    line('| Time | UTC | Event |');
    line('|---|---|---|');
    for (const ev of r.events) {
      const text = ev.severity === 'alarm' ? `**${m(ev.text)}**` : m(ev.text);
      line(`| ${formatElapsed(ev.atS)} | ${m(ev.iso.slice(11, 19))} | ${text} |`);
    }
    line();
    line('Time is elapsed since the session started (mm:ss); stops, faults and alarms are in bold.');
  }
  line();

  line('## End of session');
  line();
  line(r.end ? `**${m(r.end.reason)}**${r.end.detail ? `: ${m(r.end.detail)}` : ''} (final state ${m(r.end.finalState)}).` : '**No end record**: the session did not end normally.');
  line();

  line('## Aftercare');
  line();
  line(r.aftercare === null ? 'Not recorded.' : m(r.aftercare, true));
  line();

  const i = r.integrity;
  const chain = i.chainIntact === null ? 'not checked' : i.chainIntact ? 'intact' : 'BROKEN';
  line('---');
  line();
  line(
    `Generated from ${i.path === null ? 'journal records' : code(i.path)}: ${i.records} records, hash chain ${chain}${i.truncatedTail ? `, torn last line (${i.truncatedTail.bytes} bytes)` : ''}${
      r.session.appVersion ? `. EDN Controller ${m(r.session.appVersion)}` : ''
    }.`,
  );
  return `${out.join('\n')}\n`;
}

/** Inline code that cannot be broken out of: the fence is longer than any backtick run inside. */
function code(text: string): string {
  const flat = text.replace(/\r\n|\r|\n/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat.replace(/\|/g, '\\|')}${pad}${fence}`;
}

/** The chart as a table: mean amplitude per channel in time buckets (at most about 30 rows). */
function amplitudeTable(chart: ChartModel): string[] {
  if (chart.series.length === 0 || chart.durationMin <= 0) return ['No amplitude was recorded.'];
  const bucket = [1, 2, 5, 10, 15, 30].find((b) => chart.durationMin / b <= 30) ?? 60;
  // A remainder shorter than a quarter of a bucket joins the last row.
  const rows = Math.max(1, Math.ceil(chart.durationMin / bucket - 0.25));
  const out = [
    `Mean amplitude per ${bucket === 1 ? 'minute' : `${bucket} minutes`} (mA), from the same data as the chart in the HTML report:`,
    '',
    `| Minutes | ${chart.series.map((s) => `Ch ${s.channel}`).join(' | ')} |`,
    `|---|${chart.series.map(() => '--:').join('|')}|`,
  ];
  for (let i = 0; i < rows; i++) {
    const from = i * bucket;
    const to = i === rows - 1 ? chart.durationMin : from + bucket;
    const cells = chart.series.map((s) => {
      const v = meanOver(s.points, from, to);
      return v === null ? '–' : formatNumber(v, 2);
    });
    out.push(`| ${formatNumber(from, 2)}–${formatNumber(to, 2)} | ${cells.join(' | ')} |`);
  }
  return out;
}

/** Time-weighted mean of a piecewise-linear line over [from, to] minutes. */
function meanOver(points: readonly (readonly [number, number])[], from: number, to: number): number | null {
  if (to <= from) return null;
  let area = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const [x0, y0] = points[k]!;
    const [x1, y1] = points[k + 1]!;
    const a = Math.max(from, x0);
    const b = Math.min(to, x1);
    if (b <= a || x1 <= x0) continue;
    const at = (x: number) => y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    area += ((at(a) + at(b)) / 2) * (b - a);
  }
  return area / (to - from);
}
