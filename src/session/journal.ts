/**
 * The session journal: one JSON Lines file per session, append-only, hash-chained
 * (journal-records.ts describes a record), written so that a crash loses nothing that mattered.
 *
 * Writing
 * - The file is `<dataDir>/sessions/<UTC yyyymmddThhmmssZ>-<sessionId>.jsonl`, created with
 *   O_CREAT|O_EXCL (an existing file is never overwritten or appended to) and mode 0600.
 * - Each record is one `writeSync` of its line and newline on an O_APPEND descriptor: once append
 *   returns, the bytes are in the kernel, so even a `kill -9` of the process cannot lose them.
 *   Every record except those listed in FSYNC_EXEMPT is then fsynced, so it also survives a power
 *   cut or an OS crash; an exempt record is on disk at the next fsync (at most about a second).
 * - A write that fails (ENOSPC, EIO, EBADF...) loses nothing: the record, and every record after
 *   it, is held in memory in order, the failure is reported on `failures$` and `failed` becomes
 *   true (the session runner stops output), and the backlog is written, in order, at the next
 *   append (or `flush()`). A line cut short by a failing write is completed, never restarted, so
 *   the file never holds a broken line in its middle. After a failed fsync the fsync is retried
 *   at the next append; note that on Linux a failed fsync may already have dropped the data from
 *   the page cache, which is why a journal failure stops the session rather than carrying on.
 * - `append` throws only on a programming error: an unknown record type or data that does not
 *   match its schema, or an append after `close()`.
 *
 * Reading
 * - `readJournal` never throws. It tolerates a torn last line (a write cut short by a crash),
 *   validates every record, verifies the hash chain, and says where and how the chain breaks:
 *   a line edited, inserted, deleted or moved. The chain detects accidental damage and edits by
 *   hand; it is not a signature: someone who rewrites every line after an edit (recomputing the
 *   hashes) is not detected, nor is a change to the last line's content that keeps it valid.
 */
import * as nodeFs from 'node:fs';
import * as nodeOs from 'node:os';
import * as nodePath from 'node:path';
import { type Observable, Subject } from 'rxjs';
import * as z from 'zod';
import { sha256Hex as sha256 } from '../domain/hash/sha256.js';
import {
  GENESIS_PREV,
  type JournalRecord,
  JournalRecordSchema,
  type RecordDataInput,
  type RecordType,
  SESSION_ID_PATTERN,
  DATA_SCHEMAS,
  isRecordType,
  isoMs,
} from './journal-records.js';
import type { SessionRecorder } from './recorder.js';
import { type IndexEntry, appendIndexEntry, readIndex } from './session-index.js';

export * from './journal-records.js';

// ---- fsync policy --------------------------------------------------------------------------------

/**
 * The records that are written without an fsync. Every other record is safety-relevant and is on
 * disk (fsynced) when `append` returns. Those below are still written at once (a killed process
 * loses none of them); only a power cut or OS crash may lose the ones after the last fsync.
 */
export const FSYNC_EXEMPT: readonly { readonly type: RecordType; readonly verb?: string; readonly why: string }[] = [
  { type: 'telemetry', why: '1 Hz summaries: at most the last second of them may be lost on power failure (issue 4)' },
  { type: 'ack', verb: 'HB', why: 'heartbeat acknowledgements, four a second: they say only that the link was alive' },
];

/** Whether a record must be fsynced before `append` returns. */
export function needsFsync(type: RecordType, data: unknown): boolean {
  const verb = typeof data === 'object' && data !== null ? (data as { verb?: unknown }).verb : undefined;
  return !FSYNC_EXEMPT.some((e) => e.type === type && (e.verb === undefined || e.verb === verb));
}

// ---- the writer ----------------------------------------------------------------------------------

/** The clock of the session: a monotonic time (ms) and the wall-clock time. */
export interface JournalClock {
  /** Monotonic session time, ms (performance.now() or the session scheduler's now()). */
  monotonicMs(): number;
  /** Wall-clock time as Date#toISOString writes it (UTC, milliseconds). */
  wallIso(): string;
}

/** The real clock. */
export const systemClock: JournalClock = {
  monotonicMs: () => performance.now(),
  wallIso: () => new Date().toISOString(),
};

/** The few fs calls the journal makes, so tests can inject failures. node:fs satisfies it. */
export interface JournalFs {
  mkdirSync(path: string, options: { recursive: true; mode?: number }): unknown;
  openSync(path: string, flags: number, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
}

export interface OpenJournalOptions {
  /** The application's data directory; the journal goes to `<dataDir>/sessions/`. */
  readonly dataDir: string;
  /** Letters, digits, ".", "_" and "-"; it becomes part of the file name. */
  readonly sessionId: string;
  readonly clock: JournalClock;
  /** Defaults to node:fs. */
  readonly fs?: JournalFs;
  /**
   * Report the session's start, end and close to the sessions index (session-index.ts), so a
   * journal cut short is detected. Default true.
   */
  readonly index?: boolean;
  /**
   * Where the backlog goes when the journal is closed with records it still cannot write (a full
   * disk): tried in order, first `<journal>.backlog`, then this directory. Default
   * `<os tmpdir>/edn-journal-backlog`. readJournal looks in both.
   */
  readonly fallbackDir?: string;
}

/** A write, fsync or close that failed. */
export interface JournalFailure {
  readonly operation: 'write' | 'fsync' | 'reopen' | 'close' | 'index' | 'backlog';
  /** The system error code (ENOSPC, EIO, EBADF...), or 'UNKNOWN'. */
  readonly code: string;
  readonly message: string;
  /** Records held in memory, not yet written. */
  readonly pending: number;
  readonly path: string;
}

/** An append the journal refuses: a bug in the caller, not a disk problem. */
export class JournalRecordError extends Error {
  override readonly name = 'JournalRecordError';
}

interface PendingLine {
  readonly record: JournalRecord;
  readonly bytes: Buffer;
  /** Bytes of this line already in the file (a write may be cut short). */
  written: number;
}

const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL } = nodeFs.constants;

/** Creates the session's journal file. Throws when it cannot be created (the session must not start). */
export function openJournal(options: OpenJournalOptions): Journal {
  return new Journal(options);
}

/** `<UTC yyyymmddThhmmssZ>-<sessionId>.jsonl` */
export function journalFileName(wallIso: string, sessionId: string): string {
  const compact = `${wallIso.slice(0, 4)}${wallIso.slice(5, 7)}${wallIso.slice(8, 10)}T${wallIso.slice(11, 13)}${wallIso.slice(14, 16)}${wallIso.slice(17, 19)}Z`;
  return `${compact}-${sessionId}.jsonl`;
}

export class Journal implements SessionRecorder {
  readonly path: string;
  readonly sessionId: string;
  readonly #fs: JournalFs;
  readonly #clock: JournalClock;
  readonly #failures = new Subject<JournalFailure>();
  readonly failures$: Observable<JournalFailure> = this.#failures.asObservable();
  #fd: number | undefined;
  #fdBad = false;
  #n = 0;
  #prev = GENESIS_PREV;
  #pending: PendingLine[] = [];
  #syncOwed = false;
  #failed = false;
  #closed = false;
  readonly #dir: string;
  readonly #index: boolean;
  readonly #fallbackDir: string;
  /** Index entries owed: written once the records they count are on disk. */
  #indexOwed: ('start' | 'end' | 'close')[] = [];
  /** Wall time of the last record appended. */
  #lastTs = '';
  /** Whether the session-end record has been appended (records after it are the epilogue). */
  #ended = false;
  #recordsAtEnd = -1;
  #lastFailure: { readonly operation: JournalFailure['operation']; readonly code: string; readonly at: string } | undefined;
  /** Where the backlog was written on close, if it had to be. */
  #backlogPath: string | undefined;

  constructor(options: OpenJournalOptions) {
    if (!SESSION_ID_PATTERN.test(options.sessionId)) {
      throw new JournalRecordError(`session id '${options.sessionId}' is not usable in a file name (letters, digits, ".", "_", "-")`);
    }
    const wall = options.clock.wallIso();
    if (!isoMs.safeParse(wall).success) throw new JournalRecordError(`the clock's wall time '${wall}' is not ISO-8601 UTC with milliseconds`);
    this.#fs = options.fs ?? nodeFs;
    this.#clock = options.clock;
    this.sessionId = options.sessionId;
    const dir = nodePath.join(options.dataDir, 'sessions');
    this.#dir = dir;
    this.#index = options.index ?? true;
    this.#fallbackDir = options.fallbackDir ?? defaultFallbackDir();
    this.path = nodePath.join(dir, journalFileName(wall, options.sessionId));
    this.#fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#fd = this.#fs.openSync(this.path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0o600);
    this.#syncDirectory(dir);
  }

  /** Where the records go (SessionRecorder). */
  get location(): string {
    return this.path;
  }

  /** True once a write or fsync failed (it stays true: the session that saw it must stop). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Records appended but not yet in the file, oldest first. */
  pendingRecords(): readonly JournalRecord[] {
    return this.#pending.map((p) => p.record);
  }

  /** Records appended so far (written or pending). */
  get count(): number {
    return this.#n;
  }

  /** The last failure in words, e.g. "disk full (ENOSPC) while writing, at 09:31:05 UTC". */
  failureText(): string | undefined {
    const f = this.#lastFailure;
    if (!f) return undefined;
    return `${describeErrno(f.code)} (${f.code}) while ${OPERATION_WORDS[f.operation]}, at ${f.at.slice(11, 19)} UTC`;
  }

  /** Where the backlog was written when the journal closed with records it could not write. */
  get backlogPath(): string | undefined {
    return this.#backlogPath;
  }

  /**
   * Append one record. Returns it as written. A write failure does not throw: the record is held
   * and reported (see the file comment). Throws JournalRecordError for an invalid record.
   */
  append<T extends RecordType>(type: T, data: RecordDataInput<T>): JournalRecord;
  append(type: string, data: unknown): JournalRecord;
  append(type: string, data: unknown): JournalRecord {
    if (this.#closed) throw new JournalRecordError(`journal ${this.path} is closed: cannot append '${type}'`);
    if (!isRecordType(type)) throw new JournalRecordError(`unknown journal record type '${type}'`);
    const parsed = DATA_SCHEMAS[type].safeParse(data);
    if (!parsed.success) throw new JournalRecordError(`invalid '${type}' record: ${z.prettifyError(parsed.error)}`);
    if (type === 'session-start' && (parsed.data as { sessionId: string }).sessionId !== this.sessionId) {
      throw new JournalRecordError(`session-start names session '${(parsed.data as { sessionId: string }).sessionId}', but this is the journal of '${this.sessionId}'`);
    }
    const candidate = { n: this.#n, t: this.#clock.monotonicMs(), ts: this.#clock.wallIso(), type, data: parsed.data, prev: this.#prev };
    const checked = JournalRecordSchema.safeParse(candidate);
    if (!checked.success) throw new JournalRecordError(`invalid '${type}' record: ${z.prettifyError(checked.error)}`);
    const record: JournalRecord = checked.data;
    const line = JSON.stringify(record);
    this.#n += 1;
    this.#prev = sha256(line);
    this.#lastTs = record.ts;
    this.#pending.push({ record, bytes: Buffer.from(`${line}\n`, 'utf8'), written: 0 });
    if (needsFsync(type, record.data)) this.#syncOwed = true;
    if (type === 'session-start') this.#indexOwed.push('start');
    if (type === 'session-end') {
      this.#indexOwed.push('end');
      this.#ended = true;
      this.#recordsAtEnd = this.#n;
    }
    this.#drain();
    return record;
  }

  /** Try to write the backlog now (and fsync). True when nothing is pending or owed. */
  flush(): boolean {
    if (this.#closed) return this.#pending.length === 0;
    if (this.#pending.length > 0) this.#syncOwed = true;
    this.#drain();
    return this.#pending.length === 0 && !this.#syncOwed;
  }

  /** Write what is pending, fsync and close. Records that still cannot be written stay in `pendingRecords()`. */
  close(): void {
    if (this.#closed) return;
    if (this.#pending.length > 0 || this.#n > 0) this.#syncOwed = true;
    // The index learns the final count when records followed the end (or there was no end).
    if (this.#n > 0 && (!this.#ended || this.#n > this.#recordsAtEnd)) this.#indexOwed.push('close');
    this.#drain();
    if (this.#pending.length > 0) this.#writeBacklog();
    this.#closed = true;
    if (this.#fd !== undefined) {
      try {
        this.#fs.closeSync(this.#fd);
      } catch (e) {
        this.#fail('close', e);
      }
      this.#fd = undefined;
    }
    this.#failures.complete();
  }

  /** Write the backlog in order, then fsync if a safety record (or a forced flush) asks for it. */
  #drain(): void {
    if (!this.#ensureOpen()) return;
    const fd = this.#fd!;
    while (this.#pending.length > 0) {
      const head = this.#pending[0]!;
      try {
        while (head.written < head.bytes.length) {
          const n = this.#fs.writeSync(fd, head.bytes, head.written, head.bytes.length - head.written);
          if (n <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
          head.written += n;
        }
      } catch (e) {
        if (errorCode(e) === 'EBADF') this.#fdBad = true;
        this.#fail('write', e);
        return;
      }
      this.#pending.shift();
    }
    if (this.#syncOwed) {
      try {
        this.#fs.fsyncSync(fd);
        this.#syncOwed = false;
      } catch (e) {
        if (errorCode(e) === 'EBADF') this.#fdBad = true;
        this.#fail('fsync', e);
        return;
      }
    }
    this.#writeIndex();
  }

  /** Tell the index what is now on disk (every record appended so far is written and fsynced). */
  #writeIndex(): void {
    if (!this.#index) {
      this.#indexOwed = [];
      return;
    }
    while (this.#indexOwed.length > 0) {
      const entry: IndexEntry = {
        v: 1,
        event: this.#indexOwed[0]!,
        sessionId: this.sessionId,
        file: nodePath.basename(this.path),
        records: this.#n,
        lastHash: this.#prev,
        lastTs: this.#lastTs,
        at: this.#clock.wallIso(),
      };
      try {
        appendIndexEntry(this.#dir, entry, this.#fs);
      } catch (e) {
        this.#fail('index', e);
        return;
      }
      this.#indexOwed.shift();
    }
  }

  /**
   * Closed with records still unwritten (the disk stayed full): write them, complete and in
   * order, to the first place that takes them, so nothing recorded is lost; readJournal joins them
   * to the journal again. The lines are the journal's own, so the hash chain runs on through them.
   */
  #writeBacklog(): void {
    const text = this.#pending.map((p) => p.bytes).reduce((a, b) => Buffer.concat([a, b]), Buffer.alloc(0));
    for (const target of backlogCandidates(this.path, this.#fallbackDir)) {
      let fd: number | undefined;
      try {
        this.#fs.mkdirSync(nodePath.dirname(target), { recursive: true, mode: 0o700 });
        fd = this.#fs.openSync(target, O_WRONLY | O_CREAT | nodeFs.constants.O_TRUNC, 0o600);
        let written = 0;
        while (written < text.length) {
          const n = this.#fs.writeSync(fd, text, written, text.length - written);
          if (n <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
          written += n;
        }
        this.#fs.fsyncSync(fd);
        this.#backlogPath = target;
        return;
      } catch (e) {
        this.#fail('backlog', e);
      } finally {
        if (fd !== undefined) {
          try {
            this.#fs.closeSync(fd);
          } catch {
            // nothing more can be done with it
          }
        }
      }
    }
  }

  /** After EBADF the descriptor is reopened (append only, never created anew). */
  #ensureOpen(): boolean {
    if (this.#fd !== undefined && !this.#fdBad) return true;
    if (this.#fd !== undefined) {
      try {
        this.#fs.closeSync(this.#fd);
      } catch {
        // the descriptor was already bad; nothing more to do with it
      }
      this.#fd = undefined;
    }
    try {
      this.#fd = this.#fs.openSync(this.path, O_WRONLY | O_APPEND);
      this.#fdBad = false;
      return true;
    } catch (e) {
      this.#fail('reopen', e);
      return false;
    }
  }

  #fail(operation: JournalFailure['operation'], e: unknown): void {
    this.#failed = true;
    this.#lastFailure = { operation, code: errorCode(e) ?? 'UNKNOWN', at: this.#clock.wallIso() };
    const failure: JournalFailure = {
      operation,
      code: errorCode(e) ?? 'UNKNOWN',
      message: e instanceof Error ? e.message : String(e),
      pending: this.#pending.length,
      path: this.path,
    };
    if (!this.#failures.closed) this.#failures.next(failure);
  }

  /** Make the new file's directory entry durable too (best effort: not every platform can). */
  #syncDirectory(dir: string): void {
    let fd: number | undefined;
    try {
      fd = this.#fs.openSync(dir, nodeFs.constants.O_RDONLY);
      this.#fs.fsyncSync(fd);
    } catch {
      // Directories cannot be fsynced everywhere (Windows); the file itself is still fsynced.
    } finally {
      if (fd !== undefined) {
        try {
          this.#fs.closeSync(fd);
        } catch {
          // ignore: read-only descriptor
        }
      }
    }
  }
}

const OPERATION_WORDS: Readonly<Record<JournalFailure['operation'], string>> = {
  write: 'writing',
  fsync: 'syncing to disk',
  reopen: 'reopening the file',
  close: 'closing the file',
  index: 'updating the session index',
  backlog: 'saving the held records elsewhere',
};

/** A system error code in words, for clinicians ("disk full"). */
export function describeErrno(code: string): string {
  switch (code) {
    case 'ENOSPC':
      return 'disk full';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'the disk is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EIO':
      return 'disk input/output error';
    case 'EBADF':
      return 'the file was closed under the program';
    default:
      return 'write failed';
  }
}

function defaultFallbackDir(): string {
  return nodePath.join(nodeOs.tmpdir(), 'edn-journal-backlog');
}

/** Where a journal's backlog may be: beside it, then in the fallback directory. */
export function backlogCandidates(journalPath: string, fallbackDir: string = defaultFallbackDir()): string[] {
  return [`${journalPath}.backlog`, nodePath.join(fallbackDir, `${nodePath.basename(journalPath)}.backlog`)];
}

function errorCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

// ---- the reader ----------------------------------------------------------------------------------

export type JournalProblemKind =
  /** The file could not be read at all. */
  | 'unreadable'
  /** A line is not UTF-8, not JSON, or not a valid record. */
  | 'invalid'
  /** A line was changed after it was written (the next line holds a different hash for it). */
  | 'edited'
  /** A line does not belong: the chain skips over it. */
  | 'inserted'
  /** Records are missing (their numbers are skipped, or the file does not begin at record 0). */
  | 'deleted'
  /** A line is not where the chain puts it. */
  | 'reordered'
  /** The chain breaks and none of the above explains it. */
  | 'broken-chain'
  /** Records are missing from the end: the sessions index counted more (or another last record). */
  | 'truncated'
  /** A bug in the reader (never expected; the fuzz tests look for it). */
  | 'internal';

/** The kinds of problem that mean the chain is broken. */
export const CHAIN_KINDS: ReadonlySet<JournalProblemKind> = new Set(['edited', 'inserted', 'deleted', 'reordered', 'broken-chain', 'truncated']);

export interface JournalProblem {
  /** 1-based line number in the file (0 when the problem is the whole file). */
  readonly line: number;
  readonly kind: JournalProblemKind;
  readonly message: string;
}

export interface JournalReadResult {
  /** The file read, when read from a path. */
  readonly path?: string;
  /** Every record that is valid, in file order (records on or after a break included). */
  readonly records: readonly JournalRecord[];
  /** Complete (newline-terminated) lines in the file. */
  readonly lines: number;
  /** What is wrong, in line order. A torn last line is not a problem (see truncatedTail). */
  readonly problems: readonly JournalProblem[];
  /** The hash chain is unbroken from record 0 to the last line (no line edited, inserted, deleted or moved). */
  readonly chainIntact: boolean;
  /**
   * The file does not end with a newline: its last write was cut short (a crash or power cut).
   * `recovered` when those bytes are nevertheless a complete, valid, chained record (then it is
   * in `records`); otherwise they were dropped.
   */
  readonly truncatedTail: { readonly bytes: number; readonly recovered: boolean } | null;
  /** No problems (a torn tail alone leaves a journal ok). */
  readonly ok: boolean;
  /**
   * How the journal ends, against the sessions index (session-index.ts) when it was read from a
   * file: `ended` (its session-end record is there and the index agrees, or has no entry),
   * `truncated` (the index counted more records: `missing` of them after `afterTs`),
   * `incomplete` (no session-end, and the index knows of no end: a crash, or a truncation the index
   * never saw), `open` (the index has a start and no end: a session may still be running).
   */
  readonly ending: JournalEnding;
  /** Records held back by a full disk and saved beside the journal or in the fallback directory. */
  readonly backlog: { readonly path: string; readonly lines: number } | null;
}

export type JournalEnding =
  | { readonly kind: 'ended'; readonly indexed: boolean }
  | { readonly kind: 'truncated'; readonly missing: number; readonly afterTs: string | null }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'open' };

/** The ending in words, for History and the report. */
export function describeEnding(e: JournalEnding): string {
  switch (e.kind) {
    case 'ended':
      return 'complete';
    case 'truncated':
      return `truncated: ${e.missing} ${e.missing === 1 ? 'record' : 'records'} missing${e.afterTs ? ` after ${e.afterTs.slice(11, 19)} UTC` : ''}`;
    case 'incomplete':
      return 'incomplete (crash or truncation)';
    case 'open':
      return 'open (a session may be running, or the program stopped)';
  }
}

export type JournalSource = { readonly path: string } | { readonly text: string | Uint8Array };

/**
 * Read a journal from a file or from its text. Never throws. From a file it also joins a backlog
 * saved by a journal that closed on a full disk (`<journal>.backlog`, or the fallback directory),
 * and compares the journal with the sessions index beside it (`ending`).
 */
export function readJournal(source: JournalSource, options: { readonly fallbackDir?: string } = {}): JournalReadResult {
  const path = 'path' in source ? source.path : undefined;
  const at = path === undefined ? {} : { path };
  const failed = (kind: JournalProblemKind, message: string): JournalReadResult => ({
    ...at,
    records: [],
    lines: 0,
    problems: [{ line: 0, kind, message }],
    chainIntact: false,
    truncatedTail: null,
    ok: false,
    ending: { kind: 'incomplete' },
    backlog: null,
  });
  let bytes: Uint8Array;
  let backlog: JournalReadResult['backlog'] = null;
  try {
    if ('path' in source) {
      bytes = nodeFs.readFileSync(source.path);
      const joined = joinBacklog(source.path, bytes, options.fallbackDir);
      bytes = joined.bytes;
      backlog = joined.backlog;
    } else bytes = typeof source.text === 'string' ? Buffer.from(source.text, 'utf8') : source.text;
  } catch (e) {
    return failed('unreadable', `cannot read ${path ?? 'the journal'}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const { lastLineHash: _last, ...result } = readBytes(bytes);
    const { ending, problem } = endingOf(path, { ...result, lastLineHash: _last });
    const problems = problem ? [...result.problems, problem] : result.problems;
    return {
      ...at,
      ...result,
      problems,
      chainIntact: result.chainIntact && !problem,
      ok: result.ok && !problem,
      ending,
      backlog,
    };
  } catch (e) {
    return failed('internal', `the reader failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A saved backlog continues the journal: the torn partial line (if any) is replaced by its whole. */
function joinBacklog(path: string, bytes: Uint8Array, fallbackDir: string | undefined): { bytes: Uint8Array; backlog: JournalReadResult['backlog'] } {
  for (const candidate of backlogCandidates(path, fallbackDir)) {
    let extra: Buffer;
    try {
      extra = nodeFs.readFileSync(candidate);
    } catch {
      continue;
    }
    const lastNewline = Buffer.from(bytes).lastIndexOf(0x0a);
    const whole = Buffer.from(bytes).subarray(0, lastNewline + 1);
    const lines = extra.toString('utf8').split('\n').filter((l) => l !== '').length;
    return { bytes: Buffer.concat([whole, extra]), backlog: { path: candidate, lines } };
  }
  return { bytes, backlog: null };
}

function endingOf(path: string | undefined, r: ReadCore): { ending: JournalEnding; problem?: JournalProblem } {
  const hasEnd = r.records.some((x) => x.type === 'session-end');
  const lastRecord = r.records.at(-1);
  if (path === undefined) return { ending: hasEnd ? { kind: 'ended', indexed: false } : { kind: 'incomplete' } };
  const entry = readIndex(nodePath.dirname(path)).last.get(nodePath.basename(path));
  if (!entry) return { ending: hasEnd ? { kind: 'ended', indexed: false } : { kind: 'incomplete' } };
  const count = lastRecord === undefined ? 0 : lastRecord.n + 1;
  if (count < entry.records) {
    const missing = entry.records - count;
    const afterTs = lastRecord?.ts ?? null;
    const ending: JournalEnding = { kind: 'truncated', missing, afterTs };
    return {
      ending,
      problem: { line: r.lines, kind: 'truncated', message: `the journal ends short of the sessions index: ${describeEnding(ending)} (the index counted ${entry.records}, last at ${entry.lastTs})` },
    };
  }
  if (count === entry.records && lastRecord !== undefined && r.lastLineHash !== entry.lastHash) {
    return {
      ending: hasEnd ? { kind: 'ended', indexed: true } : { kind: 'incomplete' },
      problem: { line: r.lines, kind: 'edited', message: `the last record differs from the one the sessions index recorded (record ${lastRecord.n})` },
    };
  }
  if (hasEnd) return { ending: { kind: 'ended', indexed: true } };
  return { ending: entry.event === 'start' ? { kind: 'open' } : { kind: 'incomplete' } };
}


interface Line {
  /** 1-based. */
  readonly no: number;
  readonly hash: string;
  /** Raw `n` and `prev` when the line is a JSON object that has them (even if otherwise invalid). */
  readonly n: number | undefined;
  readonly prev: string | undefined;
  readonly record: JournalRecord | undefined;
  readonly invalid: string | undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function parseLine(no: number, bytes: Uint8Array): Line {
  const hash = sha256(bytes);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { no, hash, n: undefined, prev: undefined, record: undefined, invalid: 'is not UTF-8 text' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { no, hash, n: undefined, prev: undefined, record: undefined, invalid: 'is not JSON' };
  }
  const raw = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const n = Number.isSafeInteger(raw['n']) ? (raw['n'] as number) : undefined;
  const prev = typeof raw['prev'] === 'string' ? raw['prev'] : undefined;
  const parsed = JournalRecordSchema.safeParse(value);
  if (!parsed.success) return { no, hash, n, prev, record: undefined, invalid: `is not a valid record: ${describeIssues(parsed.error)}` };
  return { no, hash, n, prev, record: parsed.data, invalid: undefined };
}

function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(record)'}: ${i.message}`);
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return clip(issues.join('; ') + more, 300);
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

type ReadCore = Omit<JournalReadResult, 'path' | 'ending' | 'backlog'> & { readonly lastLineHash: string };

function readBytes(bytes: Uint8Array): ReadCore {
  const lines: Line[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(parseLine(lines.length + 1, bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  const tailBytes = bytes.subarray(start);
  const problems: JournalProblem[] = [];
  for (const line of lines) {
    if (line.invalid !== undefined) problems.push({ line: line.no, kind: 'invalid', message: `line ${line.no} ${line.invalid}` });
  }
  problems.push(...chainProblems(lines));
  const records = lines.flatMap((l) => (l.record ? [l.record] : []));

  let truncatedTail: JournalReadResult['truncatedTail'] = null;
  let lastLineHash = lines.at(-1)?.hash ?? GENESIS_PREV;
  if (tailBytes.length > 0) {
    const tail = parseLine(lines.length + 1, tailBytes);
    const last = lines[lines.length - 1];
    const expectedPrev = last?.hash ?? GENESIS_PREV;
    const expectedN = last === undefined ? 0 : last.n === undefined ? undefined : last.n + 1;
    const recovered = tail.record !== undefined && tail.prev === expectedPrev && tail.n === expectedN;
    if (recovered) records.push(tail.record);
    truncatedTail = { bytes: tailBytes.length, recovered };
    if (recovered) lastLineHash = tail.hash;
  }
  problems.sort((a, b) => a.line - b.line);
  const chainIntact = !problems.some((p) => CHAIN_KINDS.has(p.kind));
  return { records, lines: lines.length, problems, chainIntact, truncatedTail, ok: problems.length === 0, lastLineHash };
}

/** Where and how the hash chain breaks (see the classification in the comments below). */
function chainProblems(lines: readonly Line[]): JournalProblem[] {
  const problems: JournalProblem[] = [];
  // Where each hash occurs (a duplicated line occurs twice).
  const at = new Map<string, number[]>([[GENESIS_PREV, [0]]]);
  for (const l of lines) at.set(l.hash, [...(at.get(l.hash) ?? []), l.no]);
  const hashOf = (no: number) => (no === 0 ? GENESIS_PREV : lines[no - 1]!.hash);
  /** The line (0 = the start of the chain) whose hash a line records as its prev. */
  const pred = (l: Line): number | undefined => {
    if (l.prev === undefined) return undefined;
    if (hashOf(l.no - 1) === l.prev) return l.no - 1;
    const candidates = at.get(l.prev);
    if (!candidates) return undefined;
    // Prefer the nearest earlier occurrence, then the nearest later one.
    const earlier = candidates.filter((c) => c < l.no - 1);
    return earlier.length > 0 ? earlier[earlier.length - 1] : candidates.find((c) => c >= l.no);
  };
  const preds = lines.map(pred);
  /** Lines some other line names as its predecessor: real records, wherever they now are. */
  const named = new Set(preds.filter((p): p is number => p !== undefined));
  const n = (no: number) => (no === 0 ? -1 : lines[no - 1]?.n);
  const describe = (no: number) => (no === 0 ? 'the start of the journal' : `line ${no}${n(no) === undefined ? '' : ` (record ${n(no)})`}`);

  // Pass 1: lines whose predecessor is somewhere else in the file.
  const reordered = new Set<number>();
  const inserted = new Set<number>();
  lines.forEach((l, i) => {
    const p = preds[i];
    if (p === undefined || p === l.no - 1) return;
    if (p > l.no - 1) {
      reordered.add(l.no);
      problems.push({ line: l.no, kind: 'reordered', message: `line ${l.no}${n(l.no) === undefined ? '' : ` (record ${n(l.no)})`} is out of order: it follows ${describe(p)}` });
    }
  });
  /** The lines that name each line as their predecessor. */
  const successors = new Map<number, number[]>();
  preds.forEach((p, i) => {
    if (p !== undefined) successors.set(p, [...(successors.get(p) ?? []), i + 1]);
  });
  lines.forEach((l, i) => {
    const p = preds[i];
    if (p === undefined || p >= l.no - 1) return;
    // The line in that place already follows the same predecessor, and the chain goes on from
    // it: this one is a copy or a fork. (When the line in that place is a dead end, it is the one
    // that was inserted: see below.)
    if ((successors.get(p) ?? []).includes(p + 1) && named.has(p + 1)) {
      inserted.add(l.no);
      problems.push({ line: l.no, kind: 'inserted', message: `line ${l.no} was inserted: it claims to follow ${describe(p)}, as line ${p + 1} does` });
      return;
    }
    const skipped = range(p + 1, l.no - 1);
    // The skipped lines are real records that belong elsewhere: the reordering explains this.
    if (skipped.some((s) => reordered.has(s) || named.has(s))) return;
    if (skipped.every((s) => inserted.has(s))) return;
    skipped.forEach((s) => inserted.add(s));
    const which = skipped.length === 1 ? `line ${skipped[0]} was` : `lines ${skipped[0]}-${skipped[skipped.length - 1]} were`;
    problems.push({ line: skipped[0]!, kind: 'inserted', message: `${which} inserted: line ${l.no} follows ${describe(p)} directly` });
  });

  // Pass 2: lines whose predecessor is nowhere (its line was changed or removed).
  lines.forEach((l, i) => {
    if (preds[i] !== undefined || inserted.has(l.no) || reordered.has(l.no)) return;
    if (l.prev === undefined) return; // an invalid line: reported as such; the next line says whether it was edited
    const before = l.no - 1;
    if (before === 0) {
      problems.push(
        l.n === 0
          ? { line: 1, kind: 'edited', message: 'line 1 (record 0) was changed: its prev is not the start of a chain' }
          : { line: 1, kind: 'deleted', message: `the journal does not begin at record 0: records 0-${l.n === undefined ? '?' : l.n - 1} are missing before line 1` },
      );
      return;
    }
    const expected = expectedIndex(lines, l.no);
    if (l.n !== undefined && expected !== undefined && l.n > expected) {
      const missing = l.n - 1 === expected ? `record ${expected} is` : `records ${expected}-${l.n - 1} are`;
      problems.push({ line: l.no, kind: 'deleted', message: `${missing} missing before line ${l.no} (deleted)` });
    } else if (l.n !== undefined && expected !== undefined && l.n === expected) {
      problems.push({ line: before, kind: 'edited', message: `line ${before} was changed after it was written: line ${l.no} records a different hash for it` });
    } else {
      problems.push({ line: l.no, kind: 'broken-chain', message: `line ${l.no} does not follow line ${before}: its prev matches no line of the journal` });
    }
  });

  // Pass 3: where the chain links, the record numbers must count up by one.
  lines.forEach((l, i) => {
    const p = preds[i];
    if (p !== l.no - 1 || l.n === undefined) return;
    const expected = p === 0 ? 0 : n(p) === undefined ? undefined : n(p)! + 1;
    if (expected !== undefined && l.n !== expected) {
      problems.push({ line: l.no, kind: 'edited', message: `line ${l.no} was changed: its record number is ${l.n}, ${expected} was expected` });
    }
  });
  return problems;
}

/** The record number line `no` should have, from the nearest earlier line that has one. */
function expectedIndex(lines: readonly Line[], no: number): number | undefined {
  for (let m = no - 1; m >= 1; m--) {
    const n = lines[m - 1]!.n;
    if (n !== undefined) return n + (no - m);
  }
  return no - 1;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
