/**
 * The built-in protocol library: the JSON files beside this module, in the same format users
 * author, validated and hashed when the module loads. A built-in that does not validate is a
 * defect of the build and fails loudly here (and in test/unit/domain/library.test.ts).
 */
import type { Protocol } from '../derive.js';
import { type ProtocolError, formatProtocolError, validateProtocol } from '../validate.js';
import denseDisperse from './dense-disperse-2-100.json' with { type: 'json' };
import kneeOaPeriosteal from './knee-oa-periosteal.json' with { type: 'json' };
import lowBackMtrp from './low-back-mtrp.json' with { type: 'json' };
import plantarFasciitis from './plantar-fasciitis.json' with { type: 'json' };

export interface BuiltInProtocol {
  readonly id: string;
  /** The file under src/domain/protocols/library/. */
  readonly fileName: string;
  readonly protocol: Protocol;
  readonly hash: string;
  readonly warnings: readonly ProtocolError[];
  /** The file's content as shipped (what `edn protocols show --json` and copies start from). */
  readonly source: unknown;
}

/** The raw files, by file name, in the order the library lists them. */
export const BUILT_IN_FILES: Readonly<Record<string, unknown>> = Object.freeze({
  'knee-oa-periosteal.json': kneeOaPeriosteal,
  'plantar-fasciitis.json': plantarFasciitis,
  'low-back-mtrp.json': lowBackMtrp,
  'dense-disperse-2-100.json': denseDisperse,
});

function load(fileName: string, json: unknown): BuiltInProtocol {
  const result = validateProtocol(json);
  if (!result.ok) {
    throw new Error(`built-in protocol ${fileName} is invalid:\n${result.errors.map(formatProtocolError).join('\n')}`);
  }
  const id = result.protocol.id;
  if (`${id}.json` !== fileName) throw new Error(`built-in protocol ${fileName} has id "${id}"; the file must be named ${id}.json`);
  return Object.freeze({ id, fileName, protocol: result.protocol, hash: result.hash, warnings: result.warnings, source: json });
}

export const BUILT_INS: readonly BuiltInProtocol[] = Object.freeze(Object.entries(BUILT_IN_FILES).map(([name, json]) => load(name, json)));

/** A built-in by id, or undefined. */
export function builtInProtocol(id: string): BuiltInProtocol | undefined {
  return BUILT_INS.find((b) => b.id === id);
}

export const BUILT_IN_IDS: readonly string[] = Object.freeze(BUILT_INS.map((b) => b.id));
