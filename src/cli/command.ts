// The shape of one `edn` subcommand. Each lives in src/cli/commands/<name>.ts and is registered in
// src/cli/main.ts. Commands write only to the streams they are given (tests inject them) and
// return the process exit code.
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';

export interface CliIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Working directory relative paths are resolved against. */
  readonly cwd: string;
  /** Environment (for defaults such as a data directory). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Receives SIGINT/SIGTERM in a real process; tests raise it themselves. */
  readonly signals?: AbortSignal;
}

export interface Command {
  /** As registered in src/cli/main.ts's COMMANDS, beside its one-line summary. */
  readonly name: string;
  /** Full usage text, shown by `edn <name> --help`. */
  readonly usage: string;
  run(argv: readonly string[], io: CliIO): Promise<number>;
}

/** Exit codes shared by every subcommand (documented in the README). */
export const EXIT = {
  ok: 0,
  /** Something the user asked for was invalid or refused (bad file, limit, screening block). */
  failed: 1,
  /** The command line itself was wrong (unknown flag, missing argument). */
  usage: 2,
} as const;

export function write(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

type Options = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;

/** A strict parseArgs for subcommands: unknown flags are usage errors (exit 2 with the usage). */
export function parse<T extends Options>(argv: readonly string[], options: T) {
  return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
}

/** A usage error raised by a command's own argument checks (same handling as parseArgs'). */
export class UsageError extends Error {
  readonly code = 'ERR_PARSE_ARGS_EDN';
}

