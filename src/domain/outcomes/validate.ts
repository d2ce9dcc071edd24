/**
 * Instrument validation: the schema (schema.ts), with errors that read like the protocol's, one per
 * line, the path first: `scores[0].max: 5 is not above min 10`. From text, each error carries
 * the line and column of the field.
 */
import type * as z from 'zod';
import { contentHash } from '../hash/jcs.js';
import { keysAt, suggest } from '../protocols/keys.js';
import { type Locate, parseJsonText } from '../protocols/json-text.js';
import { formatPath, parsePath } from '../protocols/paths.js';
import { deepFreeze } from '../safety/limits.js';
import { INSTRUMENT_FORMAT, type InstrumentFile, InstrumentSchema } from './schema.js';

export interface InstrumentError {
  /** e.g. "scores[0].mcid"; "" for the file as a whole. */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** A validated instrument and the content hash of its file (canonical JSON without $schema). */
export interface Instrument extends Omit<InstrumentFile, '$schema'> {
  readonly hash: string;
}

export type InstrumentValidation = { readonly ok: true; readonly instrument: Instrument } | { readonly ok: false; readonly errors: readonly InstrumentError[] };

export function formatInstrumentError(e: InstrumentError): string {
  return e.path === '' ? e.message : `${e.path}: ${e.message}`;
}

/** Validates a parsed JSON value as an instrument. */
export function validateInstrument(json: unknown): InstrumentValidation {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, errors: [{ path: '', message: `an instrument file is a JSON object with "format": "${INSTRUMENT_FORMAT}"` }] };
  }
  const parsed = InstrumentSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.flatMap((i) => fromIssue(i, json)) };
  const { $schema: _schema, ...content } = parsed.data;
  return { ok: true, instrument: deepFreeze({ ...content, hash: contentHash(content) }) };
}

/** Validates the text of an instrument file: JSON syntax (with line and column), then the schema. */
export function parseInstrumentText(text: string, fileName: string): InstrumentValidation {
  const json = parseJsonText(text);
  if (!json.ok) {
    const { line, column, message } = json.error;
    return { ok: false, errors: [{ path: '', message: `${fileName} is not valid JSON: ${message}`, line, column }] };
  }
  const result = validateInstrument(json.value);
  return result.ok ? result : { ok: false, errors: located(result.errors, json.locate) };
}

function fromIssue(issue: z.core.$ZodIssue, root: unknown): InstrumentError[] {
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(InstrumentSchema, issue.path, root) ?? [];
    return issue.keys.map((key) => {
      const guess = suggest(key, known);
      return { path: formatPath([...issue.path, key]), message: `unknown field "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}; allowed here: ${known.join(', ')}` };
    });
  }
  return [{ path: formatPath(issue.path), message: issue.message }];
}

function located(list: readonly InstrumentError[], locate: Locate): InstrumentError[] {
  return list
    .map((e) => ({ ...e, ...locate(parsePath(e.path) ?? []) }))
    .sort((a, b) => a.line - b.line || a.column - b.column);
}
