/**
 * The protocol editor's model, as pure functions: paths into a protocol file ("phases[0].amplitude.maxMa",
 * the notation the core's validation uses), the numeric fields with their allowed ranges and
 * stepper increments, errors grouped by path, duplicating a built-in, and the preview waveform.
 *
 * The ranges here are DISPLAY HINTS taken from the core's hard limits (src/domain/safety/limits.ts,
 * imported: the renderer may use the pure layers); the core's validateProtocol is the authority.
 */

import { PROTOCOL_CHOICES } from '../../src/app/contract.js';
import { formatPath, parsePath } from '../../src/domain/protocols/paths.js';
import { FORMAT_LIMITS, HARD_LIMITS } from '../../src/domain/safety/limits.js';

export type PathSegment = string | number;

/** Paths into a protocol file: the core's notation and its one parser (src/domain/protocols/paths.ts). */
export { formatPath, parsePath };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The value at `path`, or undefined. */
export function getAt(root: unknown, path: string): unknown {
  const segs = parsePath(path);
  if (!segs) return undefined;
  let node: unknown = root;
  for (const seg of segs) {
    if (typeof seg === 'number') node = Array.isArray(node) ? (node as unknown[])[seg] : undefined;
    else node = isRecord(node) ? node[seg] : undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * Set (or with `undefined`, delete) the value at `path` in place, creating objects and lists on
 * the way. Returns the root for chaining.
 */
export function setAt<T>(root: T, path: string, value: unknown): T {
  const segs = parsePath(path);
  if (!segs || segs.length === 0) throw new Error(`not a field path: "${path}"`);
  let node: unknown = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    const next = segs[i + 1]!;
    const container = node as Record<string | number, unknown>;
    if (container[seg] === undefined || typeof container[seg] !== 'object' || container[seg] === null) {
      container[seg] = typeof next === 'number' ? [] : {};
    }
    node = container[seg];
  }
  const last = segs[segs.length - 1]!;
  const container = node as Record<string | number, unknown>;
  if (value === undefined) {
    if (Array.isArray(container) && typeof last === 'number') container.splice(last, 1);
    else delete container[last];
  } else container[last] = value;
  return root;
}

// ---- numeric fields ------------------------------------------------------------------------------

export interface NumericField {
  /** Label shown beside the input (the unit is shown separately). */
  readonly label: string;
  readonly unit: string;
  /** Lowest allowed value; with `exclusiveMin` the value must be above it. */
  readonly min: number;
  readonly exclusiveMin?: boolean;
  readonly max: number;
  /** What one press of a stepper adds or removes. */
  readonly step: number;
  /** Decimals the device works in (more is refused by validation). */
  readonly decimals: number;
}

/**
 * The numeric fields of a protocol file, keyed by their path with indexes written as [i], with
 * the ranges of HARD_LIMITS and FORMAT_LIMITS (steps and decimals are the editor's own).
 */
const L = HARD_LIMITS;

export const NUMERIC_FIELDS = {
  'electrode.diameterMm': { label: 'Needle diameter', unit: 'mm', min: L.needleDiameterMinMm.value, max: L.needleDiameterMaxMm.value, step: 0.01, decimals: 3 },
  'electrode.insertedLengthMm': { label: 'Inserted length', unit: 'mm', min: L.needleInsertedLengthMinMm.value, max: L.needleInsertedLengthMaxMm.value, step: 1, decimals: 1 },
  'channels[i].channel': { label: 'Output channel', unit: '', min: 1, max: FORMAT_LIMITS.maxChannel, step: 1, decimals: 0 },
  'phases[i].durationMin': { label: 'Duration', unit: 'min', min: 0, exclusiveMin: true, max: L.sessionMaxMin.value, step: 1, decimals: 4 },
  'phases[i].frequencyHz': { label: 'Frequency', unit: 'Hz', min: L.frequencyMinHz.value, max: L.frequencyMaxHz.value, step: 1, decimals: 3 },
  'phases[i].pulseWidthUs': { label: 'Pulse width per phase', unit: 'µs', min: L.pulseWidthMinUs.value, max: L.pulseWidthMaxUs.value, step: 10, decimals: 0 },
  'phases[i].amplitude.maxMa': { label: 'Maximum amplitude', unit: 'mA', min: 0, exclusiveMin: true, max: L.amplitudeMaxMa.value, step: 0.5, decimals: 3 },
  'phases[i].amplitude.rampMaPerS': { label: 'Ramp rate', unit: 'mA/s', min: 0, exclusiveMin: true, max: L.amplitudeRiseMaxMaPerS.value, step: 0.1, decimals: 3 },
  'phases[i].pattern.lowHz': { label: 'Low (disperse) frequency', unit: 'Hz', min: L.frequencyMinHz.value, max: L.frequencyMaxHz.value, step: 1, decimals: 3 },
  'phases[i].pattern.highHz': { label: 'High (dense) frequency', unit: 'Hz', min: L.frequencyMinHz.value, max: L.frequencyMaxHz.value, step: 1, decimals: 3 },
  'phases[i].pattern.dwellS': { label: 'Dwell at each frequency', unit: 's', min: FORMAT_LIMITS.dwellMinS, max: FORMAT_LIMITS.dwellMaxS, step: 0.5, decimals: 3 },
  'phases[i].pattern.burstRateHz': { label: 'Burst rate', unit: 'Hz', min: L.frequencyMinHz.value, max: L.frequencyMaxHz.value, step: 1, decimals: 3 },
  'phases[i].pattern.intraBurstHz': { label: 'Frequency inside a burst', unit: 'Hz', min: L.frequencyMinHz.value, max: L.frequencyMaxHz.value, step: 1, decimals: 3 },
  'phases[i].pattern.pulsesPerBurst': { label: 'Pulses per burst', unit: 'pulses', min: FORMAT_LIMITS.pulsesPerBurstMin, max: FORMAT_LIMITS.pulsesPerBurstMax, step: 1, decimals: 0 },
} as const satisfies Record<string, NumericField>;

export type NumericKey = keyof typeof NUMERIC_FIELDS;

/** "phases[2].amplitude.maxMa" -> "phases[i].amplitude.maxMa". */
export function fieldKey(path: string): string {
  return path.replace(/\[[0-9]+\]/g, '[i]');
}

export function numericField(path: string): NumericField | undefined {
  return (NUMERIC_FIELDS as Record<string, NumericField>)[fieldKey(path)];
}

/** The allowed range in words, shown beside the input: "1–150 Hz", "above 0, up to 20 mA". */
export function rangeText(field: NumericField): string {
  const unit = field.unit ? ` ${field.unit}` : '';
  return field.exclusiveMin ? `above ${field.min}, up to ${field.max}${unit}` : `${field.min}–${field.max}${unit}`;
}

/** Round to the field's decimals without floating-point dust (0.1 + 0.2 -> 0.3). */
export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/**
 * One stepper press: from the current value (or from the range's start when empty) by ±step,
 * kept inside the range, aligned to the step so presses land on round numbers.
 */
export function stepValue(field: NumericField, current: number | undefined, direction: 1 | -1): number {
  const lowest = field.exclusiveMin ? field.step : field.min;
  if (current === undefined || !Number.isFinite(current)) return direction > 0 ? lowest : lowest;
  const aligned = direction > 0 ? Math.floor(current / field.step + 1e-9) * field.step + field.step : Math.ceil(current / field.step - 1e-9) * field.step - field.step;
  const decimals = Math.max(field.decimals, (String(field.step).split('.')[1] ?? '').length);
  return roundTo(Math.min(field.max, Math.max(lowest, aligned)), decimals);
}

/** Parse the text of a numeric input: a number, undefined when empty, or NaN when not a number. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim().replace(',', '.');
  if (t === '') return undefined;
  return /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(t) ? Number(t) : Number.NaN;
}

// ---- choices -------------------------------------------------------------------------------------

/** The regions of the protocol format (from the core, through the contract); the forbidden ones are refused by validation. */
export const REGIONS: readonly string[] = PROTOCOL_CHOICES.regions;

/** Regions no channel may use (validation refuses them with the reason); the editor does not offer them. */
export const FORBIDDEN_REGIONS: readonly string[] = PROTOCOL_CHOICES.forbiddenRegions;

/** "ankle-foot" -> "ankle / foot", "low-back" -> "low back". */
export function regionText(region: string): string {
  return region === 'ankle-foot' ? 'ankle / foot' : region === 'forearm-hand' ? 'forearm / hand' : region.replace(/-/g, ' ');
}

/** The sides of the protocol format, "affected" first (the usual choice). */
export const SIDES: readonly string[] = ['affected', ...PROTOCOL_CHOICES.sides.filter((side) => side !== 'affected')];

/** The sides a channel in `region` may have: `midline` only where the region has one. */
export function sidesFor(region: unknown): readonly string[] {
  const midline = typeof region === 'string' && (PROTOCOL_CHOICES.midlineRegions as readonly string[]).includes(region);
  return midline ? SIDES : SIDES.filter((s) => s !== 'midline');
}

/** The sites listed for a region (none for an unknown or forbidden one). */
export function siteChoices(region: unknown): readonly string[] {
  return typeof region === 'string' && Object.hasOwn(PROTOCOL_CHOICES.sites, region) ? PROTOCOL_CHOICES.sites[region as keyof typeof PROTOCOL_CHOICES.sites] : [];
}

/** Longest note beside a site, characters. */
export const SITE_NOTE_MAX: number = PROTOCOL_CHOICES.siteNoteMax;

/** A site entry of a file as its two parts: the listed site and the note ('' when none). */
export function siteParts(entry: unknown): { site: string; note: string } {
  if (typeof entry === 'string') return { site: entry, note: '' };
  if (isRecord(entry)) return { site: typeof entry.site === 'string' ? entry.site : '', note: typeof entry.note === 'string' ? entry.note : '' };
  return { site: '', note: '' };
}

/** The file's form of a site: the name alone, or with its note when there is one. */
export function siteEntry(site: string, note: string): string | { site: string; note: string } {
  return note.trim() === '' ? site : { site, note };
}

/** The first listed site of the region that the channel does not use yet (else the first). */
export function nextSite(region: unknown, used: readonly unknown[]): string {
  const choices = siteChoices(region);
  const taken = new Set(used.map((u) => siteParts(u).site));
  return choices.find((s) => !taken.has(s)) ?? choices[0] ?? '';
}
export const WAVEFORMS = ['biphasic-symmetric', 'biphasic-asymmetric'] as const;
export const FREQUENCY_MODES = ['steady', 'dense-disperse', 'burst'] as const;
export type FrequencyMode = (typeof FREQUENCY_MODES)[number];

export function frequencyMode(phase: unknown): FrequencyMode {
  const pattern = isRecord(phase) ? phase.pattern : undefined;
  if (isRecord(pattern) && pattern.kind === 'dense-disperse') return 'dense-disperse';
  if (isRecord(pattern) && pattern.kind === 'burst') return 'burst';
  return 'steady';
}

/** Switch a phase between a steady frequency and a pattern, keeping a sensible frequency. */
export function setFrequencyMode(phase: Record<string, unknown>, mode: FrequencyMode): void {
  const current = frequencyMode(phase);
  if (current === mode) return;
  const pattern = isRecord(phase.pattern) ? phase.pattern : {};
  const base = typeof phase.frequencyHz === 'number' ? phase.frequencyHz : typeof pattern.lowHz === 'number' ? pattern.lowHz : typeof pattern.burstRateHz === 'number' ? pattern.burstRateHz : 2;
  delete phase.frequencyHz;
  delete phase.pattern;
  if (mode === 'steady') phase.frequencyHz = base;
  else if (mode === 'dense-disperse') phase.pattern = { kind: 'dense-disperse', lowHz: base, highHz: 100, dwellS: 3 };
  else phase.pattern = { kind: 'burst', burstRateHz: base, intraBurstHz: 100, pulsesPerBurst: 7 };
}

// ---- errors ------------------------------------------------------------------------------------

export interface PathMessage {
  readonly path: string;
  readonly message: string;
}

/**
 * Split validation messages into those shown beside a field of the form (their path is one the
 * form shows) and the rest, shown in a summary at the top of the editor.
 */
export function placeMessages(messages: readonly PathMessage[], shownPaths: ReadonlySet<string>): { byPath: Map<string, string[]>; unplaced: PathMessage[] } {
  const byPath = new Map<string, string[]>();
  const unplaced: PathMessage[] = [];
  for (const m of messages) {
    const path = bestShownPath(m.path, shownPaths);
    if (path === undefined) unplaced.push(m);
    else byPath.set(path, [...(byPath.get(path) ?? []), m.message]);
  }
  return { byPath, unplaced };
}

/** The path itself when the form shows it, else the longest shown path below it ("sources[0].verified[2]" -> "sources[0].verified"). */
function bestShownPath(path: string, shown: ReadonlySet<string>): string | undefined {
  let p = path;
  while (p !== '') {
    if (shown.has(p)) return p;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return undefined;
    p = p.slice(0, cut);
  }
  return undefined;
}

// ---- whether the file is valid, in words ---------------------------------------------------------

/** A message without its trailing bracketed source reference ("... threshold [source]" -> "... threshold"): the field beside it keeps the reference. */
export function withoutReference(message: string): string {
  return message.replace(/\s*\[[^\]]*\]\s*$/, '');
}

/** A warning as the status line names it: where, then what ("Phase 1 › Maximum amplitude: Shannon k 1.63 ..."). */
export function warningText(w: PathMessage): string {
  return `${pathLabel(w.path)}: ${withoutReference(w.message)}`;
}

export interface ValidityView {
  /** valid: nothing to say; warned: valid with warnings; invalid: problems to fix. */
  readonly state: 'valid' | 'warned' | 'invalid';
  readonly text: string;
  /** The warnings, each once per path, in order: the status links to each one's field. */
  readonly warnings: readonly PathMessage[];
}

function count(n: number, one: string, many: string): string {
  return n === 1 ? `1 ${one}` : `${n} ${many}`;
}

/**
 * What the editor's status says about a validation (issue 16 section 5): a file with warnings
 * never reads like a clean one. "Valid: ready to save." / "Valid and saved." only without
 * warnings; "Valid, 1 warning: <where>: <what>" (every warning, in order) with them; the problems
 * to fix, and how many warnings besides, when it is not valid.
 */
export function validityView(v: { readonly valid: boolean; readonly errors: readonly PathMessage[]; readonly warnings: readonly PathMessage[] }, saved: boolean): ValidityView {
  const seen = new Set<string>();
  const warnings = v.warnings.filter((w) => {
    const key = `${w.path}\u0000${w.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const w = warnings.length;
  if (!v.valid) {
    const n = v.errors.length;
    const problems = n === 1 ? 'One problem' : `${n} problems`;
    return { state: 'invalid', text: `${problems} to fix before saving${w > 0 ? `, and ${count(w, 'warning', 'warnings')}` : ''}.`, warnings };
  }
  const head = saved ? 'Valid and saved' : 'Valid';
  if (w === 0) return { state: 'valid', text: saved ? 'Valid and saved.' : 'Valid: ready to save.', warnings };
  return { state: 'warned', text: `${head}, ${count(w, 'warning', 'warnings')}: ${warnings.map(warningText).join('; ')}.`, warnings };
}

/** The library card's warning line: "Warning: <what>" or "2 warnings: <what>; <what>" (text beside the mark, never colour alone). */
export function cardWarningText(warnings: readonly PathMessage[]): string | undefined {
  if (warnings.length === 0) return undefined;
  const texts = [...new Set(warnings.map(warningText))];
  return `${texts.length === 1 ? 'Warning' : `${texts.length} warnings`}: ${texts.join('; ')}. Check it before using the protocol.`;
}

// ---- sources: verified, claimed, unverified -----------------------------------------------------

/** The sources line of a library card: "Sources: 2 (2 verified, 11 unverified values)". */
export function sourcesSummary(p: { readonly builtIn: boolean; readonly sources: readonly { readonly verified: readonly string[]; readonly unverified: readonly string[] }[] }): string {
  const verified = p.sources.reduce((n, s) => n + s.verified.length, 0);
  const unverified = p.sources.reduce((n, s) => n + s.unverified.length, 0);
  return p.builtIn
    ? `Sources: ${p.sources.length} (${verified} verified, ${unverified} unverified values)`
    : `Sources: ${p.sources.length} (${verified} values the author marks as checked, ${unverified} unverified)`;
}

// ---- copying a protocol ------------------------------------------------------------------------

/** An id not in `taken`: "knee-oa-periosteal-custom", then "-custom-2", ... (at most 64 characters). */
export function copyId(id: string, taken: ReadonlySet<string>): string {
  const base = `${id.slice(0, 50)}-custom`;
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** A user's copy of a built-in protocol, to customise: a new id and name, the same content. */
export function duplicateProtocol(file: unknown, taken: ReadonlySet<string>): Record<string, unknown> {
  const copy = structuredClone(isRecord(file) ? file : {});
  const id = typeof copy.id === 'string' ? copy.id : 'protocol';
  copy.id = copyId(id, taken);
  copy.name = `${typeof copy.name === 'string' ? copy.name : 'Protocol'} (customised)`.slice(0, 200);
  return copy;
}

/** A file name for an exported protocol: "<id>.edn-protocol.json". */
export function exportFileName(file: unknown): string {
  const id = isRecord(file) && typeof file.id === 'string' && /^[a-z0-9-]{1,64}$/.test(file.id) ? file.id : 'protocol';
  return `${id}.edn-protocol.json`;
}

/** The file as people read it: 2-space indented JSON with a final newline. */
export function protocolText(file: unknown): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** Parse an imported file's text; a syntax error in words. */
export function parseImport(text: string, fileName: string): { ok: true; file: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, file: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, message: `${fileName} is not a protocol file (not valid JSON: ${e instanceof Error ? e.message : String(e)})` };
  }
}

// ---- the waveform preview ------------------------------------------------------------------------

/** The anodic phase of the asymmetric waveform: amplitude / ratio for ratio x the width (same charge). */
export const ASYM_RATIO = 4;

/**
 * The outline of one charge-balanced biphasic pulse at `amplitudeMa`: x in µs, y in mA
 * (cathodic first, negative). Vertical edges are repeated x values.
 */
export function pulseOutline(waveform: string, pulseWidthUs: number, amplitudeMa: number): { x: number[]; y: number[] } {
  const pw = Math.max(0, pulseWidthUs);
  const a = Math.max(0, amplitudeMa);
  const asym = waveform === 'biphasic-asymmetric';
  const second = asym ? { us: pw * ASYM_RATIO, ma: a / ASYM_RATIO } : { us: pw, ma: a };
  const lead = Math.max(20, Math.round(pw * 0.3));
  const end = pw + second.us;
  const x = [-lead, 0, 0, pw, pw, end, end, end + lead];
  const y = [0, 0, -a, -a, second.ma, second.ma, 0, 0];
  return { x, y };
}

// ---- field names in words ----------------------------------------------------------------------

const LABELS: Record<string, string> = {
  '': 'The file',
  format: 'Format',
  id: 'Id',
  name: 'Name',
  indication: 'Indication',
  description: 'Description',
  schedule: 'Schedule',
  aftercare: 'Aftercare advice',
  electrode: 'Needle',
  'electrode.kind': 'Electrode kind',
  channels: 'Channels',
  phases: 'Phases',
  sources: 'Sources',
  'channels[i].region': 'Region',
  'channels[i].side': 'Side',
  'channels[i].sites': 'Needle sites',
  'phases[i].name': 'Phase name',
  'phases[i].waveform': 'Waveform',
  'phases[i].pattern': 'Frequency pattern',
  'phases[i].amplitude': 'Amplitude',
  'phases[i].amplitude.titration': 'Titration rule',
  'phases[i].notes': 'Notes',
  'sources[i].key': 'Key',
  'sources[i].citation': 'Citation',
  'sources[i].doi': 'DOI',
  'sources[i].registry': 'Trial registry id',
  'sources[i].pmcid': 'PubMed Central id',
  'sources[i].verified': 'Fields you checked',
  'sources[i].unverified': 'Unverified fields',
  'sources[i].note': 'Note',
};

/** A path in words for the error summary: "Phase 1 › Maximum amplitude", "Channel entry 2 › Region". */
export function pathLabel(path: string): string {
  const segs = parsePath(path);
  if (!segs) return path;
  if (segs.length === 0) return LABELS['']!;
  const parts: string[] = [];
  const listNames: Record<string, string> = { channels: 'Channel entry', phases: 'Phase', sources: 'Source' };
  const head = segs[0];
  const index = segs[1];
  let from = 0;
  if (typeof head === 'string' && listNames[head] && typeof index === 'number') {
    parts.push(`${listNames[head]} ${index + 1}`);
    from = 2;
  }
  if (segs.length > from) {
    // The longest prefix of the path that has a name; a list index after it is an item number.
    for (let end = segs.length; end > from; end--) {
      const prefix = formatPath(segs.slice(0, end));
      const label = numericField(prefix)?.label ?? LABELS[fieldKey(prefix)];
      if (label !== undefined) {
        parts.push(label);
        const item = segs[end];
        if (typeof item === 'number') parts.push(`item ${item + 1}`);
        break;
      }
      if (end === from + 1) parts.push(String(segs[segs.length - 1]));
    }
  }
  return parts.join(' › ');
}
