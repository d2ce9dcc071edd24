/**
 * The built-in instruments: the JSON files beside this module, in the format clinics author
 * (schema.ts), validated when the module loads. A built-in that does not validate is a defect of
 * the build and fails loudly here (and in test/unit/domain/outcomes.test.ts).
 */
import { formatInstrumentError, type Instrument, validateInstrument } from '../validate.js';
import ffi from './ffi.json' with { type: 'json' };
import groc from './groc.json' with { type: 'json' };
import koos from './koos.json' with { type: 'json' };
import nprs from './nprs.json' with { type: 'json' };
import odi from './odi.json' with { type: 'json' };
import psfs from './psfs.json' with { type: 'json' };
import womac from './womac.json' with { type: 'json' };

/** The raw files, by file name, in the order the library lists them. */
export const BUILT_IN_INSTRUMENT_FILES: Readonly<Record<string, unknown>> = Object.freeze({
  'nprs.json': nprs,
  'groc.json': groc,
  'psfs.json': psfs,
  'womac.json': womac,
  'koos.json': koos,
  'ffi.json': ffi,
  'odi.json': odi,
});

function load(fileName: string, json: unknown): Instrument {
  const result = validateInstrument(json);
  if (!result.ok) throw new Error(`built-in instrument ${fileName} is invalid:\n${result.errors.map(formatInstrumentError).join('\n')}`);
  if (`${result.instrument.id}.json` !== fileName) throw new Error(`built-in instrument ${fileName} has id "${result.instrument.id}"; the file must be named ${result.instrument.id}.json`);
  return result.instrument;
}

export const BUILT_IN_INSTRUMENTS: readonly Instrument[] = Object.freeze(Object.entries(BUILT_IN_INSTRUMENT_FILES).map(([name, json]) => load(name, json)));

/** The instruments the session flow itself asks for (NPRS before and after every session). */
export const NPRS_ID = 'nprs';
export const GROC_ID = 'groc';
export const PSFS_ID = 'psfs';

export function builtInInstrument(id: string): Instrument | undefined {
  return BUILT_IN_INSTRUMENTS.find((i) => i.id === id);
}
