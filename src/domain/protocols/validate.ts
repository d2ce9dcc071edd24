/**
 * Protocol validation: the schema (structure, ranges, cross-field rules), then the SAME guard a
 * live session runs, for every phase on every channel at the phase's maxMa with the declared
 * needle and no device. A file that validates can therefore never ask for something a session
 * refuses on the guard's grounds (the device's own, possibly narrower, limits are checked at
 * the session, when the device is known).
 *
 * Errors are one per line: the path, then the value, the allowed range, the reason and the
 * source key, e.g.
 *   phases[0].amplitude.maxMa: 25 mA is above the 20 mA ceiling for needle electrodes [docs/CLINICAL.md#amplitude]
 */
import type * as z from 'zod';
import { contentHash, findUnpairedSurrogate } from '../hash/jcs.js';
import { type Violation, type Warning, checkPlan } from '../safety/guard.js';
import { FORMAT_LIMITS } from '../safety/limits.js';
import { keysAt, suggest } from './keys.js';
import { type Locate, parseJsonText } from './json-text.js';
import { type Protocol, normalizeProtocol, phaseLimits, phaseStimulation } from './derive.js';
import { formatPath } from './paths.js';
import { PROTOCOL_FORMAT, type ProtocolFile, ProtocolSchema } from './schema.js';

export interface ProtocolError {
  /** Where in the file, e.g. "phases[0].amplitude.maxMa"; "" for the file as a whole. */
  readonly path: string;
  readonly message: string;
  /** 1-based position in the text, when validated from text. */
  readonly line?: number;
  readonly column?: number;
}

export type ProtocolValidation =
  | { readonly ok: true; readonly protocol: Protocol; readonly hash: string; readonly warnings: readonly ProtocolError[] }
  | { readonly ok: false; readonly errors: readonly ProtocolError[]; readonly warnings: readonly ProtocolError[] };

/** "path: message" (or the message alone for the whole file). */
export function formatProtocolError(e: ProtocolError): string {
  return e.path === '' ? e.message : `${e.path}: ${e.message}`;
}

export interface ValidateOptions {
  /**
   * Rules beyond the file itself, run on a protocol that passed every other check (user.ts: a
   * user protocol may not take a built-in's id or name). Kept out of this module so it does not
   * depend on the library, which is validated with it.
   */
  readonly rules?: (protocol: Protocol) => readonly ProtocolError[];
}

/** Validates a parsed JSON value as a protocol. */
export function validateProtocol(json: unknown, options: ValidateOptions = {}): ProtocolValidation {
  const wrongFormat = formatMismatch(json);
  if (wrongFormat) return { ok: false, errors: [wrongFormat], warnings: [] };
  const tooMany = tooManyPhases(json);
  if (tooMany) return { ok: false, errors: [tooMany], warnings: [] };
  const parsed = ProtocolSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: dedupe(parsed.error.issues.flatMap((i) => fromIssue(i, json))), warnings: [] };
  const file = parsed.data;
  const { errors, warnings } = guardPhases(file);
  if (errors.length > 0) return { ok: false, errors, warnings };
  const unpaired = findUnpairedSurrogate({ ...file, $schema: undefined });
  if (unpaired) return { ok: false, errors: [{ path: formatPath(unpaired), message: UNPAIRED_SURROGATE }], warnings };
  const hash = hashProtocolFile(file);
  const protocol = normalizeProtocol(file, hash);
  const more = options.rules?.(protocol) ?? [];
  if (more.length > 0) return { ok: false, errors: [...more], warnings };
  return { ok: true, protocol, hash, warnings };
}

/**
 * A file with more phases than FORMAT_LIMITS.maxPhases is refused before any phase is parsed: the
 * cap exists to bound the cost of a validation, so it must not pay that cost first.
 */
function tooManyPhases(json: unknown): ProtocolError | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const phases = (json as { phases?: unknown }).phases;
  if (!Array.isArray(phases) || phases.length <= FORMAT_LIMITS.maxPhases) return undefined;
  return { path: 'phases', message: `${phases.length} phases is above the ${FORMAT_LIMITS.maxPhases}-phase maximum of a protocol file` };
}

/** Validates the text of a protocol file: JSON syntax (with line and column), then validateProtocol. */
export function parseProtocolText(text: string, fileName: string, options: ValidateOptions = {}): ProtocolValidation {
  const bytes = oversized(text);
  if (bytes !== undefined) {
    return { ok: false, errors: [{ path: '', message: `${fileName} is ${bytes} bytes; a protocol file is at most ${FORMAT_LIMITS.maxFileBytes} bytes` }], warnings: [] };
  }
  const json = parseJsonText(text);
  if (!json.ok) {
    const { line, column, message } = json.error;
    return { ok: false, errors: [{ path: '', message: `${fileName} is not valid JSON: ${message}`, line, column }], warnings: [] };
  }
  const result = validateProtocol(json.value, options);
  return result.ok
    ? { ...result, warnings: located(result.warnings, json.locate) }
    : { ok: false, errors: located(result.errors, json.locate), warnings: located(result.warnings, json.locate) };
}

/** UTF-8 bytes of `text` when they are above the file cap, else undefined (short text is not encoded). */
function oversized(text: string): number | undefined {
  if (text.length * 3 <= FORMAT_LIMITS.maxFileBytes) return undefined;
  const bytes = new TextEncoder().encode(text).length;
  return bytes > FORMAT_LIMITS.maxFileBytes ? bytes : undefined;
}

/** RFC 8785 refuses such text (it is not Unicode), so the content hash cannot be computed. */
const UNPAIRED_SURROGATE = 'text with an unpaired UTF-16 surrogate (a lone \\uD800-\\uDFFF escape) is not Unicode text and cannot be hashed: write the character itself';

/**
 * The content hash: SHA-256 (hex) of the JCS text (RFC 8785: sorted keys, no whitespace, shortest
 * numbers) of the file's content without "$schema". Formatting and key order do not change it;
 * any value does.
 */
export function hashProtocolFile(file: ProtocolFile): string {
  const { $schema: _schema, ...content } = file;
  return contentHash(content);
}

// ---- schema issues -------------------------------------------------------------------------------

function formatMismatch(json: unknown): ProtocolError | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { path: '', message: `a protocol file is a JSON object with "format": "${PROTOCOL_FORMAT}"` };
  }
  const format = (json as Record<string, unknown>).format;
  if (typeof format === 'string' && format !== PROTOCOL_FORMAT && /^edn-protocol\//.test(format)) {
    return { path: 'format', message: `"${format}" is not a format this version reads; it reads "${PROTOCOL_FORMAT}"` };
  }
  return undefined;
}

function fromIssue(issue: z.core.$ZodIssue, root: unknown, base: readonly PropertyKey[] = []): ProtocolError[] {
  const path = [...base, ...issue.path];
  // A site's own union error already says what a site with a note needs (schema.ts SiteEntrySchema).
  const siteEntry = path.length >= 2 && path[path.length - 2] === 'sites';
  if (issue.code === 'invalid_union' && !siteEntry) {
    // A union of forms (schedule: text or an object): report the problems of the one form whose
    // type the input has, with their paths, rather than "invalid input" for the whole union.
    const matching = issue.errors.filter((branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (matching.length === 1) return matching[0]!.flatMap((i) => fromIssue(i, root, path));
  }
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(ProtocolSchema, path, root) ?? [];
    return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: unknownKeyMessage(key, known) }));
  }
  return [{ path: formatPath(path), message: issue.message }];
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const guess = suggest(key, known);
  const hint = guess ? ` (did you mean "${guess}"?)` : '';
  return `unknown field "${key}"${hint}; allowed here: ${known.join(', ')}`;
}

// ---- the guard over every phase ------------------------------------------------------------------

/** Where a guard finding lands in the file: the field the author has to change. */
function filePath(phaseIndex: number, field: string, channelIndex: number): string {
  const phase = `phases[${phaseIndex}]`;
  switch (field) {
    case 'amplitudeMa':
      return `${phase}.amplitude.maxMa`;
    case 'rampMaPerS':
      return `${phase}.amplitude.rampMaPerS`;
    case 'durationS':
      return `${phase}.durationMin`;
    case 'pulseWidthUs':
    case 'waveform':
      return `${phase}.${field}`;
    case 'pattern.frequencyHz':
      return `${phase}.frequencyHz`;
    case 'channel':
      return `channels[${channelIndex}].channel`;
    default:
      if (field.startsWith('pattern.')) return `${phase}.${field}`;
      if (field.startsWith('electrode.')) return field;
      return phase;
  }
}

function guardPhases(file: ProtocolFile): { errors: ProtocolError[]; warnings: ProtocolError[] } {
  const protocol = normalizeProtocol(file, '');
  const errors: ProtocolError[] = [];
  const warnings: ProtocolError[] = [];
  const toError = (i: number, c: number) => (f: Violation | Warning) => ({ path: filePath(i, f.field, c), message: f.message });
  protocol.phases.forEach((phase, i) => {
    const limits = phaseLimits(protocol, i);
    protocol.channels.forEach((channel, c) => {
      const params = phaseStimulation(protocol, i, channel.channel, phase.amplitude.maxMa);
      const result = checkPlan(params, { electrode: protocol.electrode, protocol: limits });
      errors.push(...result.violations.map(toError(i, c)));
      warnings.push(...result.warnings.map(toError(i, c)));
    });
  });
  return { errors: dedupe(errors), warnings: dedupe(warnings) };
}

function dedupe(list: readonly ProtocolError[]): ProtocolError[] {
  const seen = new Set<string>();
  return list.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Adds line and column to each finding and puts them in file order. */
function located(list: readonly ProtocolError[], locate: Locate): ProtocolError[] {
  const withPlace = list.map((e) => {
    if (e.line !== undefined) return e;
    const { line, column } = locate(pathSegments(e.path));
    return { ...e, line, column };
  });
  return withPlace.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([A-Za-z_$][A-Za-z0-9_$]*)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  return out;
}
