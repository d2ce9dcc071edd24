/**
 * The instruments a clinic uses: the built-ins (src/domain/outcomes/library) and the clinic's own
 * files in `<dataDir>/instruments/*.json`, in the same format and validated the same way. A clinic
 * file with a built-in's id replaces nothing: it is reported, and the built-in is used.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILT_IN_INSTRUMENTS, type Instrument, formatInstrumentError, parseInstrumentText } from '../domain/outcomes/index.js';

/** Largest instrument file read, bytes. */
export const MAX_INSTRUMENT_BYTES = 256 * 1024;

export interface InstrumentLibrary {
  readonly instruments: readonly Instrument[];
  /** Clinic files that could not be used, with every error (file:line:column: path: message). */
  readonly problems: readonly { readonly file: string; readonly errors: readonly string[] }[];
  get(id: string): Instrument | undefined;
}

export function loadInstruments(dataDir: string): InstrumentLibrary {
  const dir = path.join(dataDir, 'instruments');
  const instruments: Instrument[] = [...BUILT_IN_INSTRUMENTS];
  const problems: { file: string; errors: string[] }[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    // no clinic instruments
  }
  for (const name of names) {
    const file = path.join(dir, name);
    let text: string;
    try {
      if (fs.statSync(file).size > MAX_INSTRUMENT_BYTES) {
        problems.push({ file, errors: [`${name} is larger than ${MAX_INSTRUMENT_BYTES} bytes`] });
        continue;
      }
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      problems.push({ file, errors: [`cannot read ${name}: ${e instanceof Error ? e.message : String(e)}`] });
      continue;
    }
    const r = parseInstrumentText(text, name);
    if (!r.ok) {
      problems.push({ file, errors: r.errors.map((err) => `${name}${err.line === undefined ? '' : `:${err.line}:${err.column ?? 0}`}: ${formatInstrumentError(err)}`) });
    } else if (instruments.some((i) => i.id === r.instrument.id)) {
      problems.push({ file, errors: [`${name}: id "${r.instrument.id}" is already an instrument's; give the clinic's own version its own id`] });
    } else instruments.push(r.instrument);
  }
  return { instruments, problems, get: (id) => instruments.find((i) => i.id === id) };
}
