// `edn validate FILE...`: validates protocol files, one report per file; exit 0 only if all are valid.
// File reading lives here (src/domain does no I/O); validation is src/domain's parseUserProtocolText.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type ProtocolError, type ProtocolValidation, builtInProtocol, parseUserProtocolText } from '../../domain/protocols/index.js';
import { FORMAT_LIMITS } from '../../domain/safety/limits.js';
import { type CliIO, type Command, EXIT, UsageError, parse, write } from '../command.js';

/** The protocol file cap, with its reasoning, in src/domain/safety/limits.ts. */
const MAX_FILE_BYTES = FORMAT_LIMITS.maxFileBytes;

export interface FileValidation {
  readonly file: string;
  readonly result: ProtocolValidation;
}

/** Reads and validates one protocol file; unreadable files become errors, never exceptions. */
export async function validateFile(file: string, io: Pick<CliIO, 'cwd'>): Promise<FileValidation> {
  const text = await readText(path.resolve(io.cwd, file));
  if (typeof text !== 'string') return { file, result: { ok: false, errors: [{ path: '', message: text.error }], warnings: [] } };
  // As a user protocol: a file may not take a built-in's id or name unless it is that built-in.
  return { file, result: parseUserProtocolText(text, file) };
}

async function readText(absolute: string): Promise<string | { error: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    return { error: `cannot read the file: ${reason}` };
  }
  if (bytes.length > MAX_FILE_BYTES) return { error: `the file is ${bytes.length} bytes; a protocol file is at most ${MAX_FILE_BYTES} bytes` };
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { error: 'the file is not UTF-8 text' };
  }
}

/**
 * A protocol named on the command line: a built-in id, or else a file path. Returns the
 * validation (a missing built-in that does not look like a path is reported as unknown).
 */
export async function loadProtocolArg(arg: string, io: Pick<CliIO, 'cwd'>): Promise<FileValidation | { unknown: string }> {
  const builtIn = builtInProtocol(arg);
  if (builtIn) return { file: `built-in:${arg}`, result: { ok: true, protocol: builtIn.protocol, hash: builtIn.hash, warnings: builtIn.warnings } };
  if (!arg.includes('/') && !arg.includes(path.sep) && !arg.endsWith('.json')) return { unknown: arg };
  return validateFile(arg, io);
}

function location(file: string, e: ProtocolError): string {
  return e.line === undefined ? file : `${file}:${e.line}:${e.column ?? 1}`;
}

function errorLine(file: string, e: ProtocolError, kind: 'error' | 'warning'): string {
  const where = e.path === '' ? '' : `${e.path}: `;
  return `${location(file, e)}: ${kind}: ${where}${e.message}`;
}

/** The human report of one file. */
export function humanReport({ file, result }: FileValidation): string[] {
  const warnings = result.warnings.map((w) => errorLine(file, w, 'warning'));
  if (result.ok) {
    return [`${file}: valid (id ${result.protocol.id}, sha256 ${result.hash})`, ...warnings];
  }
  const n = result.errors.length;
  return [`${file}: invalid (${n} error${n === 1 ? '' : 's'})`, ...result.errors.map((e) => errorLine(file, e, 'error')), ...warnings];
}

/** The --json report of one file (one line). */
export function jsonReport({ file, result }: FileValidation): string {
  const common = { file, valid: result.ok, errors: result.ok ? [] : result.errors, warnings: result.warnings };
  return JSON.stringify(result.ok ? { ...common, id: result.protocol.id, hash: result.hash } : common);
}

export const validateCommand: Command = {
  name: 'validate',
  usage: [
    'Usage: edn validate FILE... [--json]',
    '',
    'Validates each protocol file: JSON syntax, the edn-protocol/1 format, and the same safety',
    'guard a live session runs (every phase at its maxMa with the declared needle).',
    '',
    'Output: one block per file; errors read "file:line:column: error: path: reason [source]".',
    '  --json   one JSON object per line per file:',
    '           {"file", "valid", "errors": [{"path", "message", "line", "column"}], "warnings": [...]}',
    '',
    'Exit status: 0 when every file is valid, 1 when any is not, 2 for a usage error.',
  ].join('\n'),
  async run(argv, io) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean', default: false } });
    if (positionals.length === 0) throw new UsageError('name at least one protocol file');
    let invalid = 0;
    for (const file of positionals) {
      const report = await validateFile(file, io);
      if (!report.result.ok) invalid++;
      write(io.stdout, values.json ? jsonReport(report) : humanReport(report).join('\n'));
    }
    if (!values.json && positionals.length > 1) {
      write(io.stdout, invalid === 0 ? `all ${positionals.length} files are valid` : `${invalid} of ${positionals.length} files are invalid`);
    }
    return invalid === 0 ? EXIT.ok : EXIT.failed;
  },
};
