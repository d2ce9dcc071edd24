/**
 * What the app keeps on disk in its data directory, besides the session journals it writes through
 * the session layer:
 *
 *   <dataDir>/protocols/<id>.json   user protocols (the same format as the built-ins)
 *   <dataDir>/sessions/*.jsonl      session journals (written by src/session/journal.ts)
 *   <dataDir>/settings.json         settings (settings.ts)
 *
 * Everything read back is parsed (protocol files are validated, journals are read with their hash
 * chain checked); nothing here throws on bad content, only on a failing disk where the caller
 * asked for a write. Writes are atomic: a temporary file in the same directory, fsynced, renamed
 * over the target, then the directory fsynced, so a crash leaves the old file or the new one.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ProtocolError, type ProtocolValidation, comparableName, parseJsonText, parseUserProtocolText } from '../domain/protocols/index.js';
import { FORMAT_LIMITS } from '../domain/safety/limits.js';
import { CHAIN_KINDS, type JournalReadResult, describeEnding, readJournal } from '../session/journal.js';

/** Largest protocol file read, bytes (the built-ins are about 3 KB; FORMAT_LIMITS holds the reasoning). */
export const MAX_PROTOCOL_BYTES = FORMAT_LIMITS.maxFileBytes;

/** A protocol id as the file format allows it (schema.ts): lower-case words joined by single dashes. */
export const PROTOCOL_ID_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A session journal's file name: `<UTC yyyymmddThhmmssZ>-<sessionId>.jsonl` (journal.ts). */
export const JOURNAL_NAME_PATTERN = /^(\d{8}T\d{6}Z)-([A-Za-z0-9][A-Za-z0-9._-]{0,63})\.jsonl$/;

/** Write `text` to `file` atomically (temp file + fsync + rename + directory fsync). Throws on I/O errors. */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o600);
    fs.writeFileSync(fd, text, 'utf8');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  syncDirectory(dir);
}

/** fsync a directory so a rename in it is durable (not possible on every platform: best effort). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot open a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// ---- user protocols --------------------------------------------------------------------------------

export interface UserProtocolEntry {
  /** The id the file is stored under (its name without `.json`). */
  readonly id: string;
  readonly path: string;
  /** The parsed JSON, or undefined when the file is not JSON (or unreadable). */
  readonly json: unknown;
  /** The validation of the file as on disk (with line and column where known). */
  readonly validation: ProtocolValidation;
}

export class ProtocolStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'protocols');
  }

  /**
   * Every `<id>.json` in the directory, sorted by id; a missing directory is an empty library.
   * Names are unique across the library: a file whose name a protocol earlier in id order already
   * has (a copy placed by hand) is listed as invalid, naming the other.
   */
  list(): UserProtocolEntry[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const entries = names
      .filter((n) => n.endsWith('.json') && PROTOCOL_ID_PATTERN.test(n.slice(0, -5)))
      .map((n) => n.slice(0, -5))
      .sort()
      .flatMap((id) => {
        const entry = this.read(id);
        return entry ? [entry] : [];
      });
    const seen = new Map<string, string>();
    return entries.map((entry) => {
      if (!entry.validation.ok) return entry;
      const key = comparableName(entry.validation.protocol.name);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, entry.id);
        return entry;
      }
      return { ...entry, validation: { ok: false, errors: [nameTaken(entry.validation.protocol.name, first)], warnings: entry.validation.warnings } };
    });
  }

  /** The problem when another user protocol (not `id`) already has this name, else undefined. */
  nameConflict(id: string, name: string): ProtocolError | undefined {
    const key = comparableName(name);
    const other = this.list().find((e) => e.id !== id && e.validation.ok && comparableName(e.validation.protocol.name) === key);
    return other ? nameTaken(name, other.id) : undefined;
  }

  /** The user protocol stored under `id`, or undefined when there is none (or the id is not one). */
  read(id: string): UserProtocolEntry | undefined {
    if (!PROTOCOL_ID_PATTERN.test(id) || id.length > 64) return undefined;
    const file = path.join(this.dir, `${id}.json`);
    const invalid = (message: string, json?: unknown): UserProtocolEntry => ({
      id,
      path: file,
      json,
      validation: { ok: false, errors: [{ path: '', message }], warnings: [] },
    });
    let text: string;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) return undefined;
      if (stat.size > MAX_PROTOCOL_BYTES) return invalid(`${id}.json is ${stat.size} bytes; a protocol file is at most ${MAX_PROTOCOL_BYTES} bytes`);
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return invalid(`cannot read ${id}.json: ${e instanceof Error ? e.message : String(e)}`);
    }
    const parsed = parseJsonText(text);
    const json = parsed.ok ? parsed.value : undefined;
    // Validated as a user protocol: it may not pass itself off as a built-in (its id or name).
    const validation = parseUserProtocolText(text, `${id}.json`);
    if (validation.ok && validation.protocol.id !== id) {
      return invalid(`${id}.json holds protocol "${validation.protocol.id}": the file name and the id must match (save it again under its id)`, json);
    }
    return { id, path: file, json, validation };
  }

  /** Write a (validated) protocol file as `<id>.json`, atomically. Throws on I/O errors. */
  save(id: string, file: unknown): string {
    if (!PROTOCOL_ID_PATTERN.test(id)) throw new Error(`'${id}' is not a protocol id`);
    const target = path.join(this.dir, `${id}.json`);
    writeFileAtomic(target, `${JSON.stringify(file, null, 2)}\n`);
    return target;
  }
}

function nameTaken(name: string, otherId: string): ProtocolError {
  return { path: 'name', message: `"${name}" is already the name of your protocol ${otherId}: give each protocol its own name` };
}

// ---- session journals ------------------------------------------------------------------------------

export interface JournalSummary {
  readonly sessionId: string;
  /** File name in `<dataDir>/sessions/`. */
  readonly file: string;
  readonly startedAt: string | null;
  readonly patientRef: string | null;
  readonly protocolId: string | null;
  readonly protocolName: string | null;
  readonly endReason: string | null;
  readonly stimulationS: number | null;
  /** The hash chain is unbroken, every line valid, the last line complete and the session ended as the index says. */
  readonly intact: boolean;
  /** The same in words: "intact", "truncated: 20 records missing after 09:31:05 UTC", "incomplete (crash or truncation)"... */
  readonly integrity: string;
}

export class SessionStore {
  readonly dir: string;
  /** Summaries by file, reused while the file's size and mtime are unchanged. */
  readonly #cache = new Map<string, { size: number; mtimeMs: number; summary: JournalSummary }>();

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'sessions');
  }

  /** Every journal, newest first (file names start with the UTC start time). */
  async list(): Promise<JournalSummary[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return [];
    }
    const files = names.filter((n) => JOURNAL_NAME_PATTERN.test(n)).sort().reverse();
    const out: JournalSummary[] = [];
    const seen = new Set<string>();
    for (const name of files) {
      const file = path.join(this.dir, name);
      seen.add(file);
      let stat: fs.Stats;
      try {
        stat = await fs.promises.stat(file);
      } catch {
        continue;
      }
      const cached = this.#cache.get(file);
      if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) {
        out.push(cached.summary);
        continue;
      }
      const read = await this.#read(file);
      const summary = summarize(name, read);
      this.#cache.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, summary });
      out.push(summary);
    }
    for (const key of this.#cache.keys()) if (!seen.has(key)) this.#cache.delete(key);
    return out;
  }

  /** The journal of a session, read and checked, or undefined when there is no such session. */
  async open(sessionId: string): Promise<{ readonly file: string; readonly read: JournalReadResult } | undefined> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return undefined;
    }
    const name = names.find((n) => JOURNAL_NAME_PATTERN.exec(n)?.[2] === sessionId);
    if (name === undefined) return undefined;
    const file = path.join(this.dir, name);
    return { file: name, read: await this.#read(file) };
  }

  /** Read asynchronously, then check (the check itself is synchronous and never throws). */
  async #read(file: string): Promise<JournalReadResult> {
    // From the path: the reader also joins a saved backlog and compares with the sessions index.
    await Promise.resolve();
    return readJournal({ path: file });
  }
}

/**
 * A journal is intact when nothing is wrong with it at all: no problem, no torn last line, and it
 * ends with its session-end as the sessions index says (a journal with no end is never intact).
 */
export function journalIntact(read: JournalReadResult): boolean {
  return read.ok && read.truncatedTail === null && read.ending.kind === 'ended';
}

/** What History says of a journal, in words. */
export function journalIntegrity(read: JournalReadResult): string {
  if (read.ending.kind === 'truncated') return describeEnding(read.ending);
  const chain = read.problems.filter((p) => CHAIN_KINDS.has(p.kind));
  if (chain.length > 0) return `damaged: ${chain[0]!.message}`;
  if (read.problems.length > 0) return `damaged: ${read.problems[0]!.message}`;
  if (read.ending.kind !== 'ended') return describeEnding(read.ending);
  if (read.truncatedTail) return 'complete; its last line was cut short';
  return 'intact';
}

function summarize(name: string, read: JournalReadResult): JournalSummary {
  let start: Extract<JournalReadResult['records'][number], { type: 'session-start' }> | undefined;
  let end: Extract<JournalReadResult['records'][number], { type: 'session-end' }> | undefined;
  for (const r of read.records) {
    if (r.type === 'session-start' && start === undefined) start = r;
    if (r.type === 'session-end' && end === undefined) end = r;
  }
  return {
    sessionId: start?.data.sessionId ?? JOURNAL_NAME_PATTERN.exec(name)?.[2] ?? name,
    file: name,
    startedAt: start?.ts ?? null,
    patientRef: start?.data.patientRef ?? null,
    protocolId: start?.data.protocol.id ?? null,
    protocolName: start?.data.protocol.name ?? null,
    endReason: end?.data.reason ?? null,
    stimulationS: end?.data.stimulationS ?? null,
    intact: journalIntact(read),
    integrity: journalIntegrity(read),
  };
}
