// What the course commands share: the data directory, opening the course store with errors that
// say what to do, and finding a protocol by built-in id, user protocol id or file.
import path from 'node:path';
import { ProtocolStore } from '../../app/store.js';
import { CourseStore } from '../../course/index.js';
import { type Protocol, formatProtocolError } from '../../domain/protocols/index.js';
import { type CliIO, write } from '../command.js';
import { defaultDataDir } from './run.js';
import { loadProtocolArg } from './validate.js';

export const DATA_DIR_HELP = `  --data-dir DIR   the data directory (default $EDN_DATA_DIR, else ~/.local/share/edn-controller);
                   the course store is DIR/courses.db, beside DIR/sessions/`;

export function dataDirOf(value: string | undefined, io: CliIO): string {
  return value === undefined ? defaultDataDir(io.env) : path.resolve(io.cwd, value);
}

/** Open the store, or say on stderr why not and what to do (returns undefined). */
export function openStore(command: string, dataDir: string, io: CliIO): CourseStore | undefined {
  const opened = CourseStore.open(dataDir);
  if (opened.ok) return opened.store;
  const hint =
    opened.error.code === 'STORE_CORRUPT'
      ? ' Nothing was changed. The session journals hold every session: rebuild the store from them with "edn courses rebuild" (the damaged file is kept beside it).'
      : '';
  write(io.stderr, `edn ${command}: ${opened.error.message}.${hint}`);
  return undefined;
}

/** A built-in id, a user protocol id (DIR/protocols/ID.json) or a protocol file. */
export async function resolveProtocol(command: string, arg: string, dataDir: string, io: CliIO): Promise<Protocol | undefined> {
  const loaded = await loadProtocolArg(arg, io);
  if ('unknown' in loaded) {
    const user = new ProtocolStore(dataDir).read(arg);
    if (user) {
      const v = user.validation;
      if (v.ok) return v.protocol;
      write(io.stderr, `edn ${command}: protocol ${arg} (${user.path}) is invalid:\n${v.errors.map(formatProtocolError).join('\n')}`);
      return undefined;
    }
    write(io.stderr, `edn ${command}: no protocol '${arg}': not a built-in (see 'edn protocols'), not in ${path.join(dataDir, 'protocols')}, and not a file`);
    return undefined;
  }
  if (!loaded.result.ok) {
    write(io.stderr, `edn ${command}: ${loaded.file} is invalid:\n${loaded.result.errors.map(formatProtocolError).join('\n')}`);
    return undefined;
  }
  return loaded.result.protocol;
}
