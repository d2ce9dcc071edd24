/**
 * The evidence status of a protocol's values, in words a clinician reads: "Frequency 2 Hz, pulse
 * width 250 µs per phase, duration 20 min: defaults you confirm; not verified against
 * DUNNING2018KNEE". A protocol file marks its values by field path (`sources[].verified` and
 * `unverified`, e.g. "phases[0].frequencyHz"); paths are for files and tools, never for the screen.
 *
 * One pure function, `protocolEvidence`, for every place that shows it (the library card, the
 * editor, the start dialog, the session report), so they cannot say different things. Its input is
 * the small structural view below: a validated `Protocol` is one as it is, and a session record's
 * copy of the protocol becomes one in a few lines (src/session/report.ts).
 *
 * A value is `verified` when a source says it was checked against that source, `unverified` when a
 * source lists it as a default the clinician confirms, and `unmarked` when it is a stimulation value
 * no source mentions (a user's protocol, say): that is a default the clinician confirms too, and
 * the words say so. What "verified" means is docs/CLINICAL.md#evidence-status.
 *
 * Only the built-in library's own versions (by content hash, src/domain/protocols/user.ts) may say
 * "verified": in any other protocol (a customised copy, an import) a value its author lists as
 * verified is `claimed`, the author's word, never shown with the library's verified mark.
 */
import { describePattern, type Pattern } from '../stimulation.js';
import { type UnitName, withUnit } from '../units.js';
import { parsePath } from './paths.js';

export const EVIDENCE_STATUSES = ['verified', 'claimed', 'unverified', 'unmarked'] as const;
export type EvidenceStatus = (typeof EVIDENCE_STATUSES)[number];

/** A phase as the evidence needs it (a `ProtocolPhase` is one). */
export interface EvidencePhase {
  readonly name: string;
  readonly durationMin: number;
  readonly waveform: string;
  readonly pattern: Pattern;
  readonly pulseWidthUs: number;
  readonly notes?: string | undefined;
  readonly amplitude: { readonly maxMa: number; readonly rampMaPerS: number; readonly titration?: string | undefined };
}

/** A protocol as the evidence needs it (a validated `Protocol` is one). */
export interface EvidenceSubject {
  readonly name?: string | undefined;
  readonly indication?: string | undefined;
  readonly description?: string | undefined;
  /** The planned course: a sentence (older files), or the structured form (src/domain/protocols/schedule.ts). */
  readonly schedule?: string | { readonly sessions: number; readonly intervalDays: number; readonly weeks?: number | undefined; readonly text?: string | undefined } | undefined;
  readonly aftercare?: string | undefined;
  /** May the session treat both sides (src/domain/protocols/treated-side.ts)? */
  readonly bilateral?: boolean | undefined;
  readonly electrode?: { readonly diameterMm: number; readonly insertedLengthMm: number } | undefined;
  readonly phases: readonly EvidencePhase[];
  readonly channels: readonly { readonly channel: number; readonly region: string; readonly side: string; readonly sites: readonly string[] }[];
  readonly sources: readonly { readonly key: string; readonly verified: readonly string[]; readonly unverified: readonly string[] }[];
}

/** One value of the protocol with its label, its value in words and units, and its status. */
export interface EvidenceValue {
  /** The field path it was marked by (for tools and the editor's links; never shown as the label). */
  readonly path: string;
  /** "Frequency", "Phase 2 pulse width", "Channel 1 sites". */
  readonly label: string;
  /** "2 Hz", "250 µs per phase", "“strong but comfortable”"; absent when the subject does not hold it. */
  readonly value?: string;
  readonly status: EvidenceStatus;
  /** The keys of the sources that mark it with this status (none for unmarked values). */
  readonly sources: readonly string[];
}

/** The values one source marks one way (or the unmarked ones), and the sentence that says so. */
export interface EvidenceGroup {
  readonly status: EvidenceStatus;
  /** The source's key; absent for the unmarked group. */
  readonly source?: string;
  readonly values: readonly EvidenceValue[];
  /** "Frequency 2 Hz, pulse width 250 µs per phase, duration 20 min: defaults you confirm; not verified against DUNNING2018KNEE" */
  readonly text: string;
}

export interface ProtocolEvidence {
  /** Every value any source marks, and every unmarked stimulation value, once each, in reading order. */
  readonly values: readonly EvidenceValue[];
  /** Per source its verified then its unverified values, then the unmarked ones; empty groups left out. */
  readonly groups: readonly EvidenceGroup[];
}

/** The status in words, for one value or several. */
export function statusWords(status: EvidenceStatus, source: string | undefined, count: number): string {
  const defaults = count === 1 ? 'a default you confirm' : 'defaults you confirm';
  switch (status) {
    case 'verified':
      return `verified against ${source ?? 'its source'}`;
    case 'claimed':
      return `checked against ${source ?? 'its source'} by its author's account (not reviewed for the built-in library)`;
    case 'unverified':
      return `${defaults}; not verified against ${source ?? 'its source'}`;
    case 'unmarked':
      return `${defaults}; no source is given for ${count === 1 ? 'it' : 'them'}`;
  }
}

/**
 * The evidence of a protocol: its marked values and every stimulation value, in words. `library`:
 * this is a built-in's own version, whose `verified` lists the library vouches for; otherwise they
 * are the author's claim.
 */
export function protocolEvidence(subject: EvidenceSubject, options: { readonly library: boolean } = { library: false }): ProtocolEvidence {
  const checked: EvidenceStatus = options.library ? 'verified' : 'claimed';
  const described = new Map<string, Described>();
  const describe = (path: string): Described => {
    let d = described.get(path);
    if (d === undefined) {
      d = describeField(subject, path);
      described.set(path, d);
    }
    return d;
  };

  const groups: EvidenceGroup[] = [];
  const statusOf = new Map<string, { status: EvidenceStatus; sources: string[] }>();
  const mark = (path: string, status: EvidenceStatus, source: string) => {
    const now = statusOf.get(path);
    // Verified by any source wins: that source checked it. The per-source groups keep each marking.
    if (now === undefined || (now.status === 'unverified' && status === checked)) statusOf.set(path, { status, sources: [source] });
    else if (now.status === status && !now.sources.includes(source)) now.sources.push(source);
  };
  for (const source of subject.sources) {
    for (const field of ['verified', 'unverified'] as const) {
      const status: EvidenceStatus = field === 'verified' ? checked : 'unverified';
      const paths = sortPaths(unique(source[field]), describe);
      for (const path of paths) mark(path, status, source.key);
      if (paths.length > 0) groups.push(group(status, source.key, paths.map((path) => value(path, status, [source.key], describe(path)))));
    }
  }

  const marked = [...statusOf.keys()];
  const unmarked = sortPaths(
    stimulationPaths(subject).filter((path) => !marked.some((m) => covers(m, path))),
    describe,
  );
  if (unmarked.length > 0) groups.push(group('unmarked', undefined, unmarked.map((path) => value(path, 'unmarked', [], describe(path)))));

  const values = sortPaths([...marked, ...unmarked], describe).map((path) => {
    const s = statusOf.get(path);
    return s ? value(path, s.status, s.sources, describe(path)) : value(path, 'unmarked', [], describe(path));
  });
  return { values, groups };
}

/**
 * "Frequency 2 Hz, pulse width 250 µs per phase" for a list of values. Free texts are in quotes, so
 * their own commas do not blur the list; long texts shown elsewhere (the indication) by label only.
 */
export function valueList(values: readonly EvidenceValue[]): string {
  return values
    .map((v, i) => {
      const label = i === 0 ? v.label : lowerFirst(v.label);
      return v.value !== undefined && !NAMED_ONLY.has(shapeOf(v.path)) ? `${label} ${v.value}` : label;
    })
    .join(', ');
}

// ---- internals -------------------------------------------------------------------------------------

/** Long free texts, shown in full elsewhere (the card, the report): a sentence names them only. */
const NAMED_ONLY: ReadonlySet<string> = new Set(['indication', 'description', 'aftercare', 'phases[].notes', 'phases', 'phases[]', 'channels', 'channels[]']);

/** "phases[0].amplitude.maxMa" -> "phases[].amplitude.maxMa". */
function shapeOf(path: string): string {
  return (parsePath(path) ?? []).map((s) => (typeof s === 'number' ? '[]' : `.${s}`)).join('').replace(/^\./, '');
}

interface Described {
  readonly label: string;
  readonly value: string | undefined;
  /** Reading order: the field's place in the file, then the phase or channel it belongs to. */
  readonly order: readonly number[];
}

function value(path: string, status: EvidenceStatus, sources: readonly string[], d: Described): EvidenceValue {
  return { path, label: d.label, ...(d.value === undefined ? {} : { value: d.value }), status, sources: [...sources] };
}

function group(status: EvidenceStatus, source: string | undefined, values: readonly EvidenceValue[]): EvidenceGroup {
  return { status, ...(source === undefined ? {} : { source }), values, text: `${valueList(values)}: ${statusWords(status, source, values.length)}` };
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}

function sortPaths(paths: readonly string[], describe: (p: string) => Described): string[] {
  return [...paths].sort((a, b) => compareOrder(describe(a).order, describe(b).order) || (a < b ? -1 : a > b ? 1 : 0));
}

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Does a marking of `marked` cover `path` (the same field, or a field inside it)? */
function covers(marked: string, path: string): boolean {
  return path === marked || path.startsWith(`${marked}.`) || path.startsWith(`${marked}[`);
}

/** The values that decide the stimulation: each should carry a status, so unmarked ones are listed. */
function stimulationPaths(subject: EvidenceSubject): string[] {
  const out: string[] = [];
  subject.phases.forEach((ph, i) => {
    const p = `phases[${i}]`;
    if (ph.pattern.kind === 'continuous') out.push(`${p}.frequencyHz`);
    else out.push(...Object.keys(ph.pattern).filter((k) => k !== 'kind').map((k) => `${p}.pattern.${k}`));
    out.push(`${p}.pulseWidthUs`, `${p}.durationMin`, `${p}.waveform`, `${p}.amplitude.maxMa`, `${p}.amplitude.rampMaPerS`);
    if (ph.amplitude.titration !== undefined) out.push(`${p}.amplitude.titration`);
  });
  if (subject.electrode) out.push('electrode.diameterMm', 'electrode.insertedLengthMm');
  subject.channels.forEach((_, i) => out.push(`channels[${i}].sites`));
  return out;
}

const WAVEFORM_WORDS: Readonly<Record<string, string>> = {
  'biphasic-symmetric': 'symmetric biphasic',
  'biphasic-asymmetric': 'asymmetric charge-balanced biphasic',
};

/** Fields by their place in the file (paths with the indices taken out): label, reading order. */
const FIELDS: readonly { readonly shape: string; readonly label: string }[] = [
  { shape: 'name', label: 'Name' },
  { shape: 'indication', label: 'Indication' },
  { shape: 'description', label: 'Description' },
  { shape: 'schedule', label: 'Schedule' },
  { shape: 'schedule.sessions', label: 'Planned sessions' },
  { shape: 'schedule.intervalDays', label: 'Interval between sessions' },
  { shape: 'schedule.weeks', label: 'Course length' },
  { shape: 'schedule.text', label: 'Schedule as the source words it' },
  { shape: 'phases', label: 'Phases (all values)' },
  { shape: 'phases[]', label: '(all values)' },
  { shape: 'phases[].name', label: 'name' },
  { shape: 'phases[].frequencyHz', label: 'frequency' },
  { shape: 'phases[].pattern', label: 'frequency pattern' },
  { shape: 'phases[].pattern.kind', label: 'kind of frequency pattern' },
  { shape: 'phases[].pattern.lowHz', label: 'low frequency' },
  { shape: 'phases[].pattern.highHz', label: 'high frequency' },
  { shape: 'phases[].pattern.dwellS', label: 'time at each frequency' },
  { shape: 'phases[].pattern.burstRateHz', label: 'burst rate' },
  { shape: 'phases[].pattern.intraBurstHz', label: 'frequency within a burst' },
  { shape: 'phases[].pattern.pulsesPerBurst', label: 'pulses per burst' },
  { shape: 'phases[].pulseWidthUs', label: 'pulse width' },
  { shape: 'phases[].durationMin', label: 'duration' },
  { shape: 'phases[].waveform', label: 'waveform' },
  { shape: 'phases[].amplitude', label: 'amplitude settings' },
  { shape: 'phases[].amplitude.maxMa', label: 'maximum amplitude' },
  { shape: 'phases[].amplitude.rampMaPerS', label: 'amplitude rise' },
  { shape: 'phases[].amplitude.titration', label: 'titration' },
  { shape: 'phases[].notes', label: 'notes' },
  { shape: 'electrode', label: 'Needle' },
  { shape: 'electrode.kind', label: 'Electrode kind' },
  { shape: 'electrode.diameterMm', label: 'Needle diameter' },
  { shape: 'electrode.insertedLengthMm', label: 'Inserted needle length' },
  { shape: 'channels', label: 'Channels (all values)' },
  { shape: 'channels[]', label: '(all values)' },
  { shape: 'channels[].channel', label: 'output number' },
  { shape: 'channels[].region', label: 'region' },
  { shape: 'channels[].side', label: 'side' },
  { shape: 'channels[].sites', label: 'sites' },
  { shape: 'bilateral', label: 'Bilateral treatment' },
  { shape: 'aftercare', label: 'Aftercare advice' },
];
const UNKNOWN_ORDER = FIELDS.length;

function describeField(subject: EvidenceSubject, path: string): Described {
  const segments = parsePath(path) ?? [];
  const indices = segments.filter((s): s is number => typeof s === 'number');
  const shape = shapeOf(path);
  const rank = FIELDS.findIndex((f) => f.shape === shape);
  const field = FIELDS[rank];
  // A path the table does not know (a new field of the format): named as written, last in order.
  if (field === undefined) return { label: path, value: undefined, order: [UNKNOWN_ORDER, ...indices] };
  const top = segments[0];
  const index = indices[0] ?? 0;
  let label = field.label;
  if (top === 'phases' && indices.length > 0) {
    // One phase: "Frequency". Several: "Phase 2 frequency" (the phase named by its number, as on screen).
    label = subject.phases.length > 1 || shape === 'phases[]' ? `Phase ${index + 1} ${label}` : upperFirst(label);
  } else if (top === 'channels' && indices.length > 0) {
    label = `Channel ${subject.channels[index]?.channel ?? index + 1} ${label}`;
  }
  // Phases come before the needle and the channels, each phase's values together, in file order.
  const order = top === 'phases' && indices.length > 0 ? [FIELDS.findIndex((f) => f.shape === 'phases[]'), index, rank] : top === 'channels' && indices.length > 0 ? [FIELDS.findIndex((f) => f.shape === 'channels[]'), index, rank] : [rank];
  return { label, value: fieldValue(subject, shape, index), order };
}

function fieldValue(subject: EvidenceSubject, shape: string, index: number): string | undefined {
  const phase = subject.phases[index];
  const channel = subject.channels[index];
  const pattern = phase?.pattern;
  const q = (n: number | undefined, unit: UnitName) => (n === undefined ? undefined : withUnit(n, unit));
  const quoted = (text: string | undefined) => (text === undefined ? undefined : `“${text}”`);
  switch (shape) {
    case 'name':
      return subject.name;
    case 'indication':
      return subject.indication;
    case 'description':
      return subject.description;
    case 'schedule':
      return typeof subject.schedule === 'object' ? scheduleWords(subject.schedule) : quoted(subject.schedule);
    case 'schedule.sessions':
      return typeof subject.schedule === 'object' ? String(subject.schedule.sessions) : undefined;
    case 'schedule.intervalDays':
      return typeof subject.schedule === 'object' ? `${subject.schedule.intervalDays} ${subject.schedule.intervalDays === 1 ? 'day' : 'days'}` : undefined;
    case 'schedule.weeks':
      return typeof subject.schedule === 'object' && subject.schedule.weeks !== undefined ? `${subject.schedule.weeks} ${subject.schedule.weeks === 1 ? 'week' : 'weeks'}` : undefined;
    case 'schedule.text':
      return typeof subject.schedule === 'object' ? quoted(subject.schedule.text) : undefined;
    case 'aftercare':
      return subject.aftercare;
    case 'bilateral':
      return subject.bilateral === true ? 'allowed' : 'not allowed';
    case 'phases[].name':
      return phase && quoted(phase.name);
    case 'phases[].frequencyHz':
      return pattern?.kind === 'continuous' ? q(pattern.frequencyHz, 'Hz') : undefined;
    case 'phases[].pattern':
      return pattern && describePattern(pattern);
    case 'phases[].pattern.kind':
      return pattern?.kind;
    case 'phases[].pattern.lowHz':
      return pattern?.kind === 'dense-disperse' ? q(pattern.lowHz, 'Hz') : undefined;
    case 'phases[].pattern.highHz':
      return pattern?.kind === 'dense-disperse' ? q(pattern.highHz, 'Hz') : undefined;
    case 'phases[].pattern.dwellS':
      return pattern?.kind === 'dense-disperse' ? q(pattern.dwellS, 's') : undefined;
    case 'phases[].pattern.burstRateHz':
      return pattern?.kind === 'burst' ? q(pattern.burstRateHz, 'Hz') : undefined;
    case 'phases[].pattern.intraBurstHz':
      return pattern?.kind === 'burst' ? q(pattern.intraBurstHz, 'Hz') : undefined;
    case 'phases[].pattern.pulsesPerBurst':
      return pattern?.kind === 'burst' ? String(pattern.pulsesPerBurst) : undefined;
    case 'phases[].pulseWidthUs':
      return phase && `${withUnit(phase.pulseWidthUs, 'us')} per phase`;
    case 'phases[].durationMin':
      return phase && q(phase.durationMin, 'min');
    case 'phases[].waveform':
      return phase && (WAVEFORM_WORDS[phase.waveform] ?? phase.waveform);
    case 'phases[].amplitude.maxMa':
      return phase && q(phase.amplitude.maxMa, 'mA');
    case 'phases[].amplitude.rampMaPerS':
      return phase && q(phase.amplitude.rampMaPerS, 'mA/s');
    case 'phases[].amplitude.titration':
      return phase && quoted(phase.amplitude.titration);
    case 'phases[].notes':
      return phase?.notes;
    case 'electrode':
      return subject.electrode && `${withUnit(subject.electrode.diameterMm, 'mm')} x ${withUnit(subject.electrode.insertedLengthMm, 'mm')} inserted`;
    case 'electrode.kind':
      return subject.electrode && 'needle';
    case 'electrode.diameterMm':
      return q(subject.electrode?.diameterMm, 'mm');
    case 'electrode.insertedLengthMm':
      return q(subject.electrode?.insertedLengthMm, 'mm');
    case 'channels[].channel':
      return channel && String(channel.channel);
    case 'channels[].region':
      return channel && channel.region.replace(/-/g, ' ');
    case 'channels[].side':
      return channel?.side;
    case 'channels[].sites':
      return channel && andList(channel.sites.map((site) => `“${site}”`));
    default:
      return undefined;
  }
}

function andList(items: readonly string[]): string {
  if (items.length <= 2) return items.join(' and ');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function lowerFirst(s: string): string {
  // "Channel 1 sites" -> "channel 1 sites"; an acronym ("RMS") stays as it is.
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}

/** "10 sessions, one every 4 days, over 6 weeks" */
function scheduleWords(s: { readonly sessions: number; readonly intervalDays: number; readonly weeks?: number | undefined }): string {
  const every = s.intervalDays === 1 ? 'one a day' : s.intervalDays === 7 ? 'one a week' : `one every ${s.intervalDays} days`;
  return `${s.sessions} ${s.sessions === 1 ? 'session' : 'sessions'}, ${every}${s.weeks === undefined ? '' : `, over ${s.weeks} ${s.weeks === 1 ? 'week' : 'weeks'}`}`;
}
