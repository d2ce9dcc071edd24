/**
 * The session report: what a journal says happened, as a clinical note (UX.md "Records people
 * trust"): who (pseudonymous patient reference, clinician), what (protocol, its content hash and
 * sources), with what (device, screening, electrode check), how much (stimulation time, and per
 * channel the output time, maximum and mean amplitude and delivered charge), what happened
 * (events in time order), how it ended, and the aftercare advice.
 *
 * `buildReport` computes a plain model from the records (every number in the report comes from
 * here, so it is tested once); `renderReport` writes it as Markdown, self-contained HTML (with an
 * inline SVG amplitude chart) or JSON. A report built from a journal that was damaged or edited
 * says so at the top, and says what it could read.
 */
import { type EvidenceSubject, protocolEvidence } from '../domain/protocols/evidence.js';
import { describeAdverseEffect } from '../domain/outcomes/adverse.js';
import { PATIENT_QUESTIONS, PREGNANCY_QUESTION, SITE_QUESTIONS } from '../domain/screening.js';
import { describePattern } from '../domain/stimulation.js';
import { verificationOf } from '../domain/protocols/user.js';
import { CHAIN_KINDS, type JournalReadResult, describeEnding, describeErrno } from './journal.js';
import { type JournalRecord, type JournalRecordOf, type RecordData, type RecordType, treatedChannels } from './journal-records.js';
import { type TreatedSide, hasAffectedSites, regionText, treatedSideText } from '../domain/protocols/treated-side.js';
import { placement } from '../domain/format.js';
import { OUTPUT_STATES } from './states.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import {
  type ChartModel,
  REPORT_FORMAT,
  type ReportChannel,
  type ReportEvent,
  type ReportFormat,
  type SessionReport,
  type Severity,
  formatNumber,
  formatOhm,
} from './report-model.js';

// The model and its formatters live in report-model.ts, which the renderers import, so the report
// modules import one another without a cycle (report -> renderers -> model).
export * from './report-model.js';

/**
 * The session record's copy of the protocol as the evidence needs it. The record keeps what ran
 * (durations in s, the amplitude limits flat), not the titration rule or the schedule: those are
 * named without a value.
 */
function evidenceSubject(p: JournalRecordOf<'session-start'>['data']['protocol']): EvidenceSubject {
  return {
    name: p.name,
    indication: p.indication,
    aftercare: p.aftercare,
    electrode: p.electrode,
    phases: p.phases.map((ph) => ({
      name: ph.name,
      durationMin: ph.durationS / 60,
      waveform: ph.waveform,
      pattern: ph.pattern,
      pulseWidthUs: ph.pulseWidthUs,
      amplitude: { maxMa: ph.maxMa, rampMaPerS: ph.rampMaPerS },
    })),
    channels: p.channels,
    sources: p.sources,
  };
}

/** Build the report of a journal as read (with its integrity), or of bare records. */
export function buildReport(input: JournalReadResult | readonly JournalRecord[]): SessionReport {
  const read: JournalReadResult | undefined = isReadResult(input) ? input : undefined;
  const records: readonly JournalRecord[] = read ? read.records : (input as readonly JournalRecord[]);
  const start = first(records, 'session-start');
  const end = first(records, 'session-end');
  const t0 = start?.t ?? records[0]?.t ?? 0;
  const tLast = records.reduce((m, r) => Math.max(m, r.t), t0);
  const protocol = start?.data.protocol;

  const stimulation = stimulationOf(records, end, protocol?.phases, t0);
  return {
    format: REPORT_FORMAT,
    integrity: integrityOf(read, records, start !== undefined, end !== undefined),
    session: {
      sessionId: start?.data.sessionId ?? null,
      patientRef: start?.data.patientRef ?? null,
      clinician: start?.data.clinician ?? null,
      treatedSide: start?.data.side ?? null,
      treatedSideText: sideWords(start?.data),
      startedIso: start?.ts ?? records[0]?.ts ?? null,
      endedIso: (end ?? records[records.length - 1])?.ts ?? null,
      durationS: round((tLast - t0) / 1000, 3),
      appVersion: start?.data.app.version ?? null,
    },
    protocol: protocol
      ? {
          id: protocol.id,
          name: protocol.name,
          hash: protocol.hash,
          indication: protocol.indication,
          electrode: protocol.electrode
            ? `needle ${formatNumber(protocol.electrode.diameterMm)} mm x ${formatNumber(protocol.electrode.insertedLengthMm)} mm inserted`
            : null,
          sources: protocol.sources.map((s) => ({
            key: s.key,
            citation: s.citation,
            doi: s.doi ?? null,
            registry: s.registry ?? null,
            pmcid: s.pmcid ?? null,
            note: s.note ?? null,
            verified: s.verified,
            unverified: s.unverified,
          })),
          evidence: protocolEvidence(evidenceSubject(protocol), { library: verificationOf(protocol.hash) === 'library' }),
          verification: verificationOf(protocol.hash),
        }
      : null,
    device: start
      ? {
          transport: start.data.device.transport,
          model: start.data.device.model,
          firmware: start.data.device.firmware,
          serial: start.data.device.serial,
          bootId: start.data.device.bootId,
          protocolVersion: start.data.device.protocolVersion,
          channels: start.data.device.limits.channels,
          amplitudeMaxMa: start.data.device.limits.amplitudeMa.max,
          complianceV: start.data.device.limits.complianceV,
          watchdogMs: start.data.device.limits.watchdogMs,
        }
      : null,
    screening: start ? screeningOf(start.data.screening, start.data.side) : null,
    electrodeCheck: electrodeCheckOf(records),
    chart: chartOf(records, t0, tLast, protocol),
    stimulation,
    channels: channelsOf(records, start ? treatedChannels(start.data) : undefined, tLast),
    events: eventsOf(records, t0, protocol?.phases),
    end: end ? { reason: end.data.reason, detail: end.data.detail ?? null, finalState: end.data.finalState } : null,
    aftercare: protocol?.aftercare ?? null,
  };
}

/** The report as text in one of the formats. */
export function renderReport(model: SessionReport, format: ReportFormat): string {
  switch (format) {
    case 'html':
      return renderHtml(model);
    case 'md':
      return renderMarkdown(model);
    case 'json':
      return `${JSON.stringify(model, null, 2)}\n`;
  }
}

// ---- integrity -----------------------------------------------------------------------------------

function isReadResult(input: JournalReadResult | readonly JournalRecord[]): input is JournalReadResult {
  return !Array.isArray(input);
}

function integrityOf(read: JournalReadResult | undefined, records: readonly JournalRecord[], hasStart: boolean, complete: boolean): SessionReport['integrity'] {
  const notices: string[] = [];
  let damaged = false;
  if (read) {
    const chain = read.problems.filter((p) => CHAIN_KINDS.has(p.kind));
    const other = read.problems.filter((p) => !CHAIN_KINDS.has(p.kind));
    if (chain.length > 0) {
      damaged = true;
      notices.push(
        `The journal's hash chain is broken (${chain.length} ${chain.length === 1 ? 'place' : 'places'}): records were changed, added, removed or moved after they were written. ` +
          `First at line ${chain[0]!.line}: ${chain[0]!.message}. This report shows what could be read; do not rely on it without checking the original.`,
      );
    }
    if (other.length > 0) {
      damaged = true;
      notices.push(`${other.length} ${other.length === 1 ? 'line of the journal is' : 'lines of the journal are'} unreadable or invalid and left out (first: ${other[0]!.message}).`);
    }
    const storage = records.find((r): r is JournalRecordOf<'journal-failure'> => r.type === 'journal-failure');
    if (storage) {
      notices.push(
        `Journal write failed: ${describeErrno(storage.data.code)} (${storage.data.code}) at ${storage.ts.slice(11, 19)} UTC. The records from then on were held in memory and written ${read.backlog ? `to ${read.backlog.path} (${read.backlog.lines} ${read.backlog.lines === 1 ? 'record' : 'records'}), joined here` : 'once the disk took them again'}.`,
      );
    }
    if (read.ending.kind === 'truncated') {
      damaged = true;
      notices.push(`The journal is ${describeEnding(read.ending)}: the sessions index recorded more records than the file holds, so records were cut off its end after it was written.`);
    }
    if (read.truncatedTail) {
      const why = storage ? 'the write was cut short when the disk failed' : 'the program stopped while writing it';
      notices.push(
        read.truncatedTail.recovered
          ? `The journal's last line lacks its end of line (${why}); the record itself is complete and included.`
          : `The journal's last line is torn (${read.truncatedTail.bytes} bytes): ${why}. That partial record is left out; everything before it is intact.`,
      );
    }
  } else {
    notices.push('Built from records alone: the journal file and its hash chain were not checked for this report.');
  }
  if (!hasStart) {
    damaged = true;
    notices.push('The journal has no session-start record: patient, protocol, device and screening are unknown.');
  }
  if (!complete && read?.ending.kind !== 'truncated') {
    const storage = records.some((r) => r.type === 'journal-failure');
    notices.push(
      storage
        ? 'The journal has no session-end record: it could not be written (see the journal failure above). Times and doses are computed from the records up to the last one.'
        : `The journal has no session-end record: ${read?.ending.kind === 'open' ? 'the session may still be running, or' : 'it is incomplete (a crash or a truncation):'} the program or computer stopped. Times and doses are computed from the records up to the last one.`,
    );
  }
  return {
    checked: read !== undefined,
    path: read?.path ?? null,
    records: records.length,
    chainIntact: read ? read.chainIntact : null,
    problems: read?.problems ?? [],
    truncatedTail: read?.truncatedTail ?? null,
    complete,
    notices,
    damaged,
  };
}

// ---- screening -----------------------------------------------------------------------------------

type ScreeningData = JournalRecordOf<'session-start'>['data']['screening'];

const QUESTION_TEXT: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(PATIENT_QUESTIONS).map(([id, q]) => [id, q.text])),
  pregnancy: PREGNANCY_QUESTION.text,
  ...Object.fromEntries(Object.entries(SITE_QUESTIONS).map(([id, q]) => [id, q.text])),
};

/** The treated side in words (H32): the choice, or why there is none. */
function sideWords(start: RecordData<'session-start'> | undefined): string {
  if (start === undefined) return 'unknown';
  if (start.side !== undefined) return treatedSideText(start.side);
  return hasAffectedSites(start.protocol) ? 'not recorded (this journal is from before the side was asked; its channels read "affected")' : 'fixed by the protocol';
}

function screeningOf(s: ScreeningData, side: TreatedSide | undefined): NonNullable<SessionReport['screening']> {
  const answers: { question: string; answer: string }[] = Object.entries(s.answers.answers).map(([id, value]) => ({
    question: QUESTION_TEXT[id] ?? id,
    answer: describeAnswer(value),
  }));
  for (const site of s.answers.sites) {
    const region = String(site['region']);
    const siteSide = String(site['side']);
    const where = siteSide === 'affected' && side === 'bilateral' ? `${regionText(region)} (both sides)` : placement(region, siteSide === 'affected' && side !== undefined ? side : siteSide);
    for (const [id, value] of Object.entries(site)) {
      if (id === 'region' || id === 'side') continue;
      answers.push({ question: `${where}: ${QUESTION_TEXT[id] ?? id}`, answer: describeAnswer(value) });
    }
  }
  return {
    status: s.status,
    acknowledged: s.acknowledgements.map((a) => ({ finding: s.findings.find((f) => f.id === a.id)?.message ?? a.id, by: a.by, at: a.at })),
    answers,
  };
}

// ---- stimulation time ----------------------------------------------------------------------------

type ProtocolData = JournalRecordOf<'session-start'>['data']['protocol'];

/** States in which the session's stimulation clock runs (the runner holds it in every other). */
const CLOCK_STATES: ReadonlySet<string> = new Set(['ramping', 'running']);

function stimulationOf(
  records: readonly JournalRecord[],
  end: JournalRecordOf<'session-end'> | undefined,
  phases: ProtocolData['phases'] | undefined,
  t0: number,
): SessionReport['stimulation'] {
  const plannedS = phases ? round(phases.reduce((s, p) => s + p.durationS, 0), 3) : null;
  const perPhase = new Map<number, number>();
  let totalS: number;
  let basis: 'session-end' | 'computed';
  if (end) {
    basis = 'session-end';
    totalS = end.data.stimulationS;
    for (const p of end.data.phases) perPhase.set(p.index, (perPhase.get(p.index) ?? 0) + p.stimulationS);
  } else {
    basis = 'computed';
    let state: string | undefined;
    let phase = 0;
    let since = t0;
    const close = (t: number) => {
      if (state !== undefined && CLOCK_STATES.has(state)) perPhase.set(phase, (perPhase.get(phase) ?? 0) + (t - since) / 1000);
      since = t;
    };
    for (const r of records) {
      if (r.type === 'state') {
        close(r.t);
        state = r.data.to;
      } else if (r.type === 'phase') {
        close(r.t);
        phase = r.data.index;
      }
    }
    close(records.reduce((m, r) => Math.max(m, r.t), t0));
    totalS = [...perPhase.values()].reduce((a, b) => a + b, 0);
  }
  const indices = new Set<number>([...(phases ?? []).map((_, i) => i), ...perPhase.keys()]);
  return {
    totalS: round(totalS, 3),
    plannedS,
    basis,
    phases: [...indices]
      .sort((a, b) => a - b)
      .map((index) => {
        const p = phases?.[index];
        return {
          index,
          name: p?.name ?? `phase ${index + 1}`,
          plannedS: p ? p.durationS : null,
          stimulationS: round(perPhase.get(index) ?? 0, 3),
          parameters: p
            ? `${describePattern(p.pattern)}, ${formatNumber(p.pulseWidthUs)} µs per phase, ${p.waveform}, up to ${formatNumber(p.maxMa)} mA, ramp ${formatNumber(p.rampMaPerS)} mA/s`
            : null,
        };
      }),
  };
}

// ---- per channel ---------------------------------------------------------------------------------

function channelsOf(records: readonly JournalRecord[], declared: ProtocolData['channels'] | undefined, tLast: number): ReportChannel[] {
  const numbers = new Set<number>((declared ?? []).map((c) => c.channel));
  const telemetry = records.filter((r): r is JournalRecordOf<'telemetry'> => r.type === 'telemetry');
  for (const r of telemetry) for (const c of r.data.channels) numbers.add(c.channel);
  for (const r of records) if (r.type === 'amplitude') numbers.add(r.data.channel);

  return [...numbers]
    .sort((a, b) => a - b)
    .map((channel) => {
      const info = declared?.find((c) => c.channel === channel);
      const commanded = commandedIntervals(levels(records, channel), tLast);
      const outputS = round(commanded.filter((i) => i.ma > 0).reduce((s, i) => s + (i.to - i.from), 0) / 1000, 3);
      const samples = telemetry.flatMap((r) => r.data.channels.filter((c) => c.channel === channel).map((c) => ({ ...c, weight: r.data.toT - r.data.fromT })));
      const base = { channel, region: info?.region ?? null, side: info?.side ?? null, sites: info?.sites ?? [], outputS };
      if (samples.length > 0) {
        const weights = samples.reduce((s, c) => s + c.weight, 0);
        const mean = weights > 0 ? samples.reduce((s, c) => s + c.meanMa * c.weight, 0) / weights : samples.reduce((s, c) => s + c.meanMa, 0) / samples.length;
        return {
          ...base,
          maxMa: round(Math.max(...samples.map((c) => c.maxMa)), 3),
          meanMa: round(mean, 3),
          chargeUc: round(Math.max(...samples.map((c) => c.chargeUc)), 3),
          basis: 'measured' as const,
        };
      }
      const on = commanded.filter((i) => i.ma > 0);
      if (on.length > 0) {
        const time = on.reduce((s, i) => s + (i.to - i.from), 0);
        return {
          ...base,
          maxMa: round(Math.max(...on.map((i) => i.ma)), 3),
          meanMa: round(time > 0 ? on.reduce((s, i) => s + i.ma * (i.to - i.from), 0) / time : on[0]!.ma, 3),
          chargeUc: null,
          basis: 'commanded' as const,
        };
      }
      return { ...base, maxMa: null, meanMa: null, chargeUc: null, basis: 'none' as const };
    });
}

/**
 * Output goes off without an amplitude record of its own when the session leaves the output
 * states (a stop, an abort, completion), at an e-stop, and at a device fault.
 */
function outputOff(r: JournalRecord, channel: number): boolean {
  if (r.type === 'state') return !OUTPUT_STATES.has(r.data.to);
  if (r.type === 'estop') return true;
  if (r.type === 'fault') return r.data.channel === null || r.data.channel === undefined || r.data.channel === channel;
  return false;
}

/** Every change of one channel's commanded amplitude, mA, in record order. */
function levels(records: readonly JournalRecord[], channel: number): { t: number; ma: number }[] {
  const out: { t: number; ma: number }[] = [];
  for (const r of records) {
    if (r.type === 'amplitude' && r.data.channel === channel) out.push({ t: r.t, ma: r.data.commandedMa });
    else if (outputOff(r, channel) && out.length > 0 && out[out.length - 1]!.ma > 0) out.push({ t: r.t, ma: 0 });
  }
  return out;
}

/** The commanded amplitude of one channel as intervals [from, to) in session ms. */
function commandedIntervals(changes: readonly { t: number; ma: number }[], tLast: number): { from: number; to: number; ma: number }[] {
  return changes.map((c, i) => ({ from: c.t, to: changes[i + 1]?.t ?? tLast, ma: c.ma }));
}

// ---- electrode check -----------------------------------------------------------------------------

function electrodeCheckOf(records: readonly JournalRecord[]): SessionReport['electrodeCheck'] {
  const checks = records.filter((r): r is JournalRecordOf<'electrodes'> => r.type === 'electrodes');
  const last = checks[checks.length - 1];
  if (!last) return null;
  return last.data.results.map((r) => ({ channel: r.channel, impedanceOhm: r.impedanceOhm, ok: r.ok, reason: r.reason ?? null }));
}

// ---- chart ---------------------------------------------------------------------------------------

/**
 * One line per channel. With telemetry, the line is the measured mean of each 1 s summary, plus
 * the commanded drops to 0 mA (pause, stop, e-stop, fault, which are immediate) and the points
 * where output resumes, so a pause shows as a flat 0 instead of a slope across it. Without
 * telemetry it is the commanded amplitude as a step line.
 */
function chartOf(records: readonly JournalRecord[], t0: number, tLast: number, protocol: ProtocolData | undefined): ChartModel {
  const minutes = (t: number) => round((t - t0) / 60_000, 4);
  const channels = new Set<number>((protocol?.channels ?? []).map((c) => c.channel));
  const hasTelemetry = new Set<number>();
  for (const r of records) {
    if (r.type === 'amplitude') channels.add(r.data.channel);
    if (r.type === 'telemetry') {
      for (const c of r.data.channels) {
        channels.add(c.channel);
        hasTelemetry.add(c.channel);
      }
    }
  }
  const level = new Map<number, number>();
  const points = new Map<number, [number, number][]>([...channels].map((c) => [c, [[0, 0]]]));
  const push = (channel: number, x: number, y: number) => {
    const list = points.get(channel) ?? [];
    const lastPoint = list[list.length - 1];
    if (!lastPoint || lastPoint[0] !== x || lastPoint[1] !== y) list.push([x, round(y, 3)]);
    points.set(channel, list);
    level.set(channel, y);
  };
  // A summary stands for the middle of its window, which is earlier than the record itself: walk
  // everything in the order of the times the points stand for.
  type Timed = { at: number; channel: number; ma: number; kind: 'commanded' | 'measured'; maxMa: number };
  const timed: Timed[] = [];
  for (const channel of channels) {
    for (const c of levels(records, channel)) timed.push({ at: c.t, channel, ma: c.ma, kind: 'commanded', maxMa: c.ma });
  }
  for (const r of records) {
    if (r.type !== 'telemetry') continue;
    for (const c of r.data.channels) timed.push({ at: (r.data.fromT + r.data.toT) / 2, channel: c.channel, ma: c.meanMa, kind: 'measured', maxMa: c.maxMa });
  }
  timed.sort((a, b) => a.at - b.at);
  let maxMa = 0;
  for (const e of timed) {
    const x = minutes(Math.max(t0, e.at));
    maxMa = Math.max(maxMa, e.maxMa);
    if (e.kind === 'measured') {
      push(e.channel, x, e.ma);
      continue;
    }
    const before = level.get(e.channel) ?? 0;
    if (e.ma === 0 || !hasTelemetry.has(e.channel)) {
      push(e.channel, x, before);
      push(e.channel, x, e.ma);
    } else if (before === 0) {
      push(e.channel, x, 0);
    }
  }
  for (const ch of channels) {
    const last = level.get(ch) ?? 0;
    push(ch, minutes(tLast), last);
  }
  for (const p of protocol?.phases ?? []) maxMa = Math.max(maxMa, p.maxMa);

  const phaseMarks = records.filter((r): r is JournalRecordOf<'phase'> => r.type === 'phase' && r.data.index > 0).map((r) => ({ atMin: minutes(r.t), name: r.data.name }));
  const pauses: { fromMin: number; toMin: number }[] = [];
  let pausedAt: number | undefined;
  for (const r of records) {
    if (r.type !== 'state') continue;
    if (r.data.to === 'paused') pausedAt = r.t;
    else if (pausedAt !== undefined) {
      pauses.push({ fromMin: minutes(pausedAt), toMin: minutes(r.t) });
      pausedAt = undefined;
    }
  }
  if (pausedAt !== undefined) pauses.push({ fromMin: minutes(pausedAt), toMin: minutes(tLast) });
  return {
    durationMin: minutes(tLast),
    maxMa: round(maxMa, 3),
    series: [...points.entries()].sort(([a], [b]) => a - b).map(([channel, pts]) => ({ channel, points: pts })),
    phaseMarks,
    pauses,
  };
}

// ---- events --------------------------------------------------------------------------------------

const label = (state: string) => state.replace(/-/g, ' ');

function eventsOf(records: readonly JournalRecord[], t0: number, phases: ProtocolData['phases'] | undefined): ReportEvent[] {
  const events: ReportEvent[] = [];
  const add = (r: JournalRecord, severity: Severity, text: string) => events.push({ atS: round((r.t - t0) / 1000, 3), iso: r.ts, kind: r.type, severity, text });
  const ch = (c: number | null | undefined) => (c === null || c === undefined ? '' : `channel ${c}: `);
  for (const r of records) {
    switch (r.type) {
      case 'session-start':
        add(r, 'info', 'Session started');
        break;
      case 'state': {
        const severity: Severity = r.data.to === 'aborted' || r.data.to === 'stopped' ? 'alarm' : 'info';
        add(r, severity, `${capital(label(r.data.from))} → ${label(r.data.to)}${r.data.reason ? ` (${r.data.reason})` : ''}`);
        break;
      }
      case 'phase': {
        const p = phases?.[r.data.index];
        add(r, 'info', `Phase ${r.data.index + 1} "${r.data.name}" began${p ? ` (${describePattern(p.pattern)})` : ''}`);
        break;
      }
      case 'phase-end':
        add(r, 'info', `Phase ${r.data.index + 1} "${r.data.name}" time elapsed`);
        break;
      case 'titration': {
        const where = r.data.channel === null ? 'all channels' : `channel ${r.data.channel}`;
        const channels = r.data.channels ?? [];
        const targets =
          channels.length > 1
            ? `targets ${channels.map((c) => `${formatNumber(c.targetMa)} mA (channel ${c.channel})`).join(', ')}`
            : `target ${formatNumber(channels[0]?.targetMa ?? r.data.targetMa)} mA${channels[0] && r.data.channel === null ? ` (channel ${channels[0].channel})` : ''}`;
        const refused = (r.data.refused ?? []).map((x) => `; ${x.reason}`).join('');
        add(r, (r.data.refused ?? []).length > 0 ? 'warning' : 'info', `Titration ${r.data.deltaMa > 0 ? '+' : ''}${formatNumber(r.data.deltaMa)} mA on ${where}: ${targets}${refused}`);
        break;
      }
      case 'electrodes': {
        const bad = r.data.results.filter((e) => !e.ok);
        const list = r.data.results.map((e) => `channel ${e.channel} ${formatOhm(e.impedanceOhm)}${e.ok ? '' : ' (blocked)'}`).join(', ');
        add(r, bad.length > 0 ? 'warning' : 'info', `Electrode check: ${list}${bad.length > 0 ? `. ${bad.map((e) => e.reason ?? `channel ${e.channel} not usable`).join('; ')}` : ''}`);
        break;
      }
      case 'warning':
        add(r, 'warning', `Warning, ${ch(r.data.channel)}${r.data.message}`);
        break;
      case 'fault':
        add(r, 'alarm', `Fault ${r.data.code}, ${ch(r.data.channel)}${r.data.message}`);
        break;
      case 'journal-failure':
        add(r, 'alarm', `Journal write failed: ${describeErrno(r.data.code)} (${r.data.code}) at ${r.ts.slice(11, 19)} UTC; ${r.data.pending} ${r.data.pending === 1 ? 'record was' : 'records were'} held in memory and written later`);
        break;
      case 'measurement':
        // Every sample the device reported beyond what it was commanded is flagged (output-monitor.ts).
        add(r, 'alarm', `Device measurement contradicts the command (${r.data.finding.replace(/-/g, ' ')}): ${r.data.message}`);
        break;
      case 'estop':
        add(r, 'alarm', r.data.acked ? `Emergency stop confirmed by the device (${r.data.source})` : `Emergency stop (${r.data.source})`);
        break;
      case 'alarm':
        add(r, r.data.priority === 'high' ? 'alarm' : r.data.priority === 'medium' ? 'warning' : 'info', `Alarm ${r.data.id} (${r.data.priority}), ${ch(r.data.channel)}${r.data.cause}. Action: ${r.data.action}`);
        break;
      case 'alarm-ack':
        add(r, 'info', `Alarm ${r.data.alarmId} acknowledged by ${r.data.by}${r.data.cause ? ` (${r.data.cause})` : ''}`);
        break;
      case 'stop-cleared':
        add(r, 'info', `Emergency stop cleared by ${r.data.by} (output stays off)`);
        break;
      case 'note':
        add(r, 'note', `Note: ${r.data.text}`);
        break;
      case 'control':
        add(r, 'warning', `Control taken over by ${r.data.to} from ${r.data.from}${r.data.fromPresent ? '' : ' (which had gone away)'}`);
        break;
      case 'ack':
        if (!r.data.ok) add(r, 'warning', `Device refused ${r.data.verb ?? 'a command'}${r.data.seq === null ? '' : ` (seq ${r.data.seq})`}: ${r.data.code ?? 'no code'}`);
        break;
      case 'session-end':
        add(r, r.data.reason === 'completed' ? 'info' : 'alarm', `Session ended: ${r.data.reason}${r.data.detail ? ` (${r.data.detail})` : ''}`);
        break;
      case 'course':
        add(r, 'info', `Session ${r.data.sessionNumber} of ${r.data.course.plannedSessions} of course ${r.data.courseId}${r.data.milestone ? ' (milestone)' : ''}`);
        break;
      case 'outcome': {
        const scores = Object.entries(r.data.scores).map(([id, v]) => `${id} ${formatNumber(v)}`).join(', ');
        add(r, 'note', `Outcome ${r.data.instrumentId} ${r.data.instrumentVersion} (${r.data.timepoint}): ${scores}`);
        break;
      }
      case 'adverse-effects':
        add(r, r.data.effects.length > 0 ? 'warning' : 'info', r.data.effects.length === 0 ? 'Adverse effects: none' : `Adverse effects: ${r.data.effects.map(describeAdverseEffect).join('; ')}`);
        break;
      case 'command':
      case 'amplitude':
      case 'telemetry':
        break;
    }
  }
  return events.sort((a, b) => a.atS - b.atS);
}

// ---- helpers -------------------------------------------------------------------------------------

function first<T extends RecordType>(records: readonly JournalRecord[], type: T): JournalRecordOf<T> | undefined {
  return records.find((r) => r.type === type) as JournalRecordOf<T> | undefined;
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function describeAnswer(answer: unknown): string {
  if (answer === undefined) return 'not asked';
  if (answer === null) return 'not answered';
  if (answer === true) return 'yes';
  if (answer === false) return 'no';
  const text = typeof answer === 'string' ? answer : String(JSON.stringify(answer));
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
