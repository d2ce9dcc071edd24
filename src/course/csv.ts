/**
 * The course as CSV for research spreadsheets: one row per session, RFC 4180 (comma-separated,
 * CRLF line ends, a field quoted when it holds a comma, quote or line break, quotes doubled).
 * Fixed columns first, then one column per channel for amplitude and charge, the treated side
 * (left, right, bilateral; "fixed" for a protocol with fixed sides; empty when not recorded), then one column per
 * milestone score ("<instrument>.<score>"), in a stable order so files of one course line up.
 * A cell that a spreadsheet would run as a formula (starting with = + - @) is prefixed with '.
 */
import { hasAffectedSites } from '../domain/protocols/treated-side.js';
import type { CourseReport } from './report.js';

function cell(value: string | number | null): string {
  if (value === null) return '';
  let text = typeof value === 'number' ? String(value) : value;
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function renderCourseCsv(r: CourseReport): string {
  const channels = [...new Set(r.sessions.flatMap((s) => s.channels.map((c) => c.channel)))].sort((a, b) => a - b);
  const scoreKeys = [
    ...new Set(r.sessions.flatMap((s) => s.outcomes.filter((o) => o.instrumentId !== 'nprs').flatMap((o) => o.scores.map((x) => `${o.instrumentId}.${x.id}`)))),
  ].sort();
  const header = [
    'course_id',
    'patient_ref',
    'protocol_id',
    'session_number',
    'session_id',
    'milestone',
    'started_at',
    'ended_at',
    'end_reason',
    'stimulation_s',
    'nprs_before',
    'nprs_after',
    ...channels.flatMap((c) => [`ch${c}_max_ma`, `ch${c}_mean_ma`, `ch${c}_charge_uc`]),
    'treated_side',
    'adverse_effects',
    'stops',
    ...scoreKeys,
    'protocol_sha256',
    'journal_file',
  ];
  const rows = r.sessions.map((s) => {
    const ch = (c: number) => s.channels.find((x) => x.channel === c);
    const score = (key: string) => {
      const [ins, id] = key.split('.');
      const last = s.outcomes.filter((o) => o.instrumentId === ins).at(-1);
      return last?.scores.find((x) => x.id === id)?.value ?? null;
    };
    return [
      r.course.id,
      r.patientRef,
      s.protocolId,
      s.number,
      s.sessionId,
      s.milestone ? 'yes' : 'no',
      s.startedAt,
      s.endedAt,
      s.endReason ?? 'cut short',
      s.stimulationS,
      s.nprsBefore,
      s.nprsAfter,
      ...channels.flatMap((c) => [ch(c)?.maxMa ?? null, ch(c)?.meanMa ?? null, ch(c)?.chargeUc ?? null]),
      // left, right or bilateral; "fixed" when the protocol's sides are fixed; empty when not recorded (an older journal).
      s.treatedSide ?? (s.sites.length > 0 && !hasAffectedSites({ channels: s.sites }) ? 'fixed' : null),
      s.adverseEffects === null ? 'not asked' : s.adverseEffects.length === 0 ? 'none' : s.adverseEffects.join('; '),
      s.stops.join('; '),
      ...scoreKeys.map(score),
      s.protocolHash,
      s.journalFile,
    ];
  });
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
