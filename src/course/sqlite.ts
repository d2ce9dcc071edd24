/**
 * The course store's database file: SQLite compiled to WebAssembly (node-sqlite3-wasm), on the
 * real file through the package's Node VFS. No native addon, so nothing to build for Node or for
 * Electron's ABI. README "Where data lives" says why this and not sql.js.
 *
 * How it is opened, and why:
 * - WAL journal with `locking_mode=EXCLUSIVE`. The package's VFS has no shared memory (xShm), and
 *   SQLite can run WAL without it only in exclusive mode; exclusive is what we want anyway: one
 *   writer (the service worker), and no other connection may read a half-written state.
 * - `synchronous=FULL`: every COMMIT appends to the WAL and fsyncs it before it returns (measured:
 *   one fsync per commit). A commit that returned survives a SIGKILL and a power cut; a
 *   transaction cut short by either is rolled back when the file is next opened.
 * - The new WAL file's directory entry is fsynced once after the first commit (the VFS fsyncs the
 *   files, not the directory they are created in).
 * - One writer across processes: the VFS locks by creating `<file>.lock` (a directory) while a
 *   lock is held, which in exclusive mode is for as long as the connection is open. A process
 *   killed with SIGKILL leaves that directory behind, and the VFS would then refuse the file
 *   forever. So this module keeps its own owner file, `<file>.owner` (pid and host, created with
 *   O_EXCL before the database is opened and removed after it is closed): a `.lock` left by an
 *   owner that is no longer running is stale, and is removed before the database is opened.
 *   An owner that is still running is another process using the store: refused (STORE_LOCKED).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sqlite3 from 'node-sqlite3-wasm';

export type SqlValue = number | bigint | string | Uint8Array | null;
export type SqlRow = Record<string, SqlValue>;
export type SqlParams = SqlValue[] | Record<string, SqlValue | boolean>;

export type StoreErrorCode =
  /** Another running process has the store open. */
  | 'STORE_LOCKED'
  /** The file is not a database, or fails SQLite's integrity check. */
  | 'STORE_CORRUPT'
  /** The file was written by a newer version of the app (a schema version this one does not know). */
  | 'STORE_NEWER'
  /** The disk refused a read or write. */
  | 'STORE_IO';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? 'nothing');
}

/** Is a process with this pid running on this host? (EPERM: it runs, as another user.) */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): Owner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Owner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? '') };
  } catch {
    // unreadable or half-written (a crash while creating it): treated as stale below
  }
  return undefined;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not every platform can fsync a directory; the files themselves are fsynced
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Take the owner file, clearing a stale one (and the stale VFS lock beside it). Throws StoreError. */
function takeOwnership(file: string): string {
  const ownerFile = `${file}.owner`;
  const lockDir = `${file}.lock`;
  const me: Owner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(ownerFile, 'wx', 0o600);
      try {
        fs.writeSync(fd, JSON.stringify(me));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      if (fs.existsSync(lockDir)) {
        // We own the store now, so nobody else can be holding this lock: it is the VFS lock of an
        // owner that was killed (its owner file was stale and removed below, or never written).
        fs.rmSync(lockDir, { recursive: true, force: true });
      }
      return ownerFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError('STORE_IO', `cannot create ${ownerFile}: ${(e as Error).message}`, file);
    }
    const owner = readOwner(ownerFile);
    if (owner && owner.host !== me.host) {
      throw new StoreError('STORE_LOCKED', `the course store ${file} is open on another computer (${owner.host}, process ${owner.pid}, since ${owner.since}); close the app there first`, file);
    }
    if (owner && running(owner.pid)) {
      const who = owner.pid === process.pid ? 'this process' : `process ${owner.pid}`;
      throw new StoreError(
        'STORE_LOCKED',
        `the course store ${file} is open in ${who} (since ${owner.since}): only one program writes it at a time; close the app (or the other edn command) and try again. If no such program runs, remove ${ownerFile}`,
        file,
      );
    }
    // The owner is gone (killed, or a crash while it wrote the file): its owner file is stale.
    fs.rmSync(ownerFile, { force: true });
  }
  throw new StoreError('STORE_LOCKED', `the course store ${file} was taken by another process while this one opened it`, file);
}

/** An open database: one connection, exclusive, WAL, synchronous=FULL. */
export class Sqlite {
  readonly file: string;
  readonly #db: sqlite3.Database;
  readonly #ownerFile: string;
  #dirSynced = false;
  #closed = false;

  private constructor(file: string, db: sqlite3.Database, ownerFile: string) {
    this.file = file;
    this.#db = db;
    this.#ownerFile = ownerFile;
  }

  /** Open (creating when absent) and check the file. Throws StoreError. */
  static open(file: string): Sqlite {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const ownerFile = takeOwnership(file);
    let db: sqlite3.Database | undefined;
    try {
      db = new sqlite3.Database(file);
      // Exclusive before the first read: a WAL-mode file cannot be read without it here (no xShm).
      db.get('PRAGMA locking_mode=EXCLUSIVE');
      const mode = db.get('PRAGMA journal_mode=WAL')?.['journal_mode'];
      if (mode !== 'wal') throw new StoreError('STORE_IO', `${file}: SQLite refused WAL mode (journal_mode is ${asText(mode)})`, file);
      db.exec('PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON');
      const check = db.all('PRAGMA quick_check').map((r) => asText(r['quick_check']));
      if (check.length !== 1 || check[0] !== 'ok') {
        throw new StoreError('STORE_CORRUPT', `${file} is damaged (SQLite's check: ${check.slice(0, 3).join('; ')})`, file);
      }
      const store = new Sqlite(file, db, ownerFile);
      return store;
    } catch (e) {
      try {
        db?.close();
      } catch {
        // already failing
      }
      fs.rmSync(`${file}.lock`, { recursive: true, force: true });
      fs.rmSync(ownerFile, { force: true });
      if (e instanceof StoreError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      if (/not a database|malformed|corrupt/i.test(message)) throw new StoreError('STORE_CORRUPT', `${file} is not a readable course store (${message})`, file);
      if (/locked|busy/i.test(message)) throw new StoreError('STORE_LOCKED', `${file} is locked by another program (${message})`, file);
      throw new StoreError('STORE_IO', `cannot open ${file}: ${message}`, file);
    }
  }

  all(sql: string, params?: SqlParams): SqlRow[] {
    return this.#db.all(sql, params) as SqlRow[];
  }

  get(sql: string, params?: SqlParams): SqlRow | undefined {
    return (this.#db.get(sql, params) as SqlRow | null) ?? undefined;
  }

  run(sql: string, params?: SqlParams): { changes: number; lastInsertRowid: number | bigint } {
    return this.#db.run(sql, params);
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /**
   * Run `body` in one write transaction (BEGIN IMMEDIATE ... COMMIT): all of it or none of it.
   * When it returns, the commit is fsynced. A throw rolls back and rethrows.
   */
  transaction<T>(body: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    let result: T;
    try {
      result = body();
      this.#db.exec('COMMIT');
    } catch (e) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw e;
    }
    if (!this.#dirSynced) {
      fsyncDir(path.dirname(this.file));
      this.#dirSynced = true;
    }
    return result;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Checkpoint, close, and give up ownership. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#db.close();
    } finally {
      fs.rmSync(this.#ownerFile, { force: true });
    }
  }
}
