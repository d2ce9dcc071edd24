/**
 * SIGKILL of a process writing the course store, inside a write transaction (the writer blocks
 * between the transaction's statements and its COMMIT: test/fixtures/course/kill-writer.ts). After
 * the kill:
 *   - the database as committed (read from a copy, before anything repairs it) holds exactly what
 *     the writer reported committed, and nothing of the transaction that was cut;
 *   - the store opens again (the dead writer's lock is stale and cleared), passes SQLite's
 *     integrity and foreign-key checks, and a session whose recording was cut is recorded again
 *     from its journal, whole: both NPRS outcomes and its adverse effect, once.
 * Every wait is for a line of the child's output with a bounded deadline; there are no sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sqlite3 from 'node-sqlite3-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { CourseStore, STORE_FILE } from '../../src/course/index.js';
import { onLines } from '../support/child-lines.js';

const WRITER = path.join(import.meta.dirname, '../fixtures/course/kill-writer.ts');
const REPO = path.join(import.meta.dirname, '../..');
const DEADLINE_MS = 30_000;

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Killed {
  readonly dataDir: string;
  readonly committed: readonly string[];
  readonly mid: string;
  readonly signal: NodeJS.Signals | null;
}

function runAndKill(killAt: number): Promise<Killed> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-course-kill-'));
  dirs.push(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(killAt)], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const committed: string[] = [];
  let mid = '';
  return new Promise<Killed>((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer did not reach transaction ${killAt} within ${DEADLINE_MS} ms; stderr:\n${stderr}`));
    }, DEADLINE_MS);
    onLines(child.stdout, (line) => {
      if (mid !== '') return;
      if (line.startsWith('committed ')) committed.push(line.split(' ').slice(1, 3).join(' '));
      if (line.startsWith('mid ')) {
        mid = line.slice(4);
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (mid === '') reject(new Error(`the writer exited by itself (${signal ?? code}); stderr:\n${stderr}`));
      else resolve({ dataDir, committed, mid, signal });
    });
  });
}

/** The committed database, read from a copy of its files (the original keeps its stale lock). */
function committedRows(dataDir: string): { sessions: { id: string; bytes: number }[]; outcomes: number } {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-course-copy-'));
  dirs.push(copy);
  for (const suffix of ['', '-wal']) {
    const from = path.join(dataDir, `${STORE_FILE}${suffix}`);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(copy, `${STORE_FILE}${suffix}`));
  }
  const db = new sqlite3.Database(path.join(copy, STORE_FILE));
  try {
    db.get('PRAGMA locking_mode=EXCLUSIVE');
    const sessions = db.all('SELECT session_id, journal_bytes FROM sessions ORDER BY number').map((r) => ({ id: r['session_id'] as string, bytes: Number(r['journal_bytes']) }));
    const outcomes = Number(db.get('SELECT count(*) AS n FROM outcomes')?.['n']);
    return { sessions, outcomes };
  } finally {
    db.close();
  }
}

describe('the course store killed with SIGKILL inside a transaction', () => {
  // Transactions: 1 add patient, 2 start course, then per session k: 2k+1 begin, 2k+2 record.
  const begin = 3 + 2 * Math.floor(Math.random() * 4); // a begin-session of session 1-4
  const record = 4 + 2 * Math.floor(Math.random() * 4); // a record-session of session 1-4
  it.each([
    ['start course', 2],
    ['begin session', begin],
    ['record session', record],
  ])('in %s (transaction %i): only what was committed is there, and the store reopens consistent', async (what, killAt) => {
    const killed = await runAndKill(killAt);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.mid.startsWith(`${what} `)).toBe(true);
    const file = path.join(killed.dataDir, STORE_FILE);
    expect(fs.existsSync(`${file}.owner`)).toBe(true); // the dead writer's lock is left behind

    const n = Number(killed.mid.split(' ').at(-1));
    const began = killed.committed.filter((c) => c.startsWith('begin-session')).length;
    const recorded = killed.committed.filter((c) => c.startsWith('record-session')).length;
    const rows = committedRows(killed.dataDir);
    // Exactly the committed sessions; the cut transaction left nothing.
    expect(rows.sessions.map((s) => s.id)).toEqual(Array.from({ length: began }, (_, i) => `S-KILL-${i + 1}`));
    expect(rows.sessions.filter((s) => s.bytes > 0).length).toBe(recorded);
    expect(rows.outcomes).toBe(2 * recorded);
    if (what === 'record session') expect([began, recorded]).toEqual([n, n - 1]);
    if (what === 'begin session') expect([began, recorded]).toEqual([n - 1, n - 1]);

    const opened = CourseStore.open(killed.dataDir);
    if (!opened.ok) throw new Error(`${opened.error.code}: ${opened.error.message}`);
    try {
      const courses = opened.store.listCourses();
      if (what === 'start course') {
        expect(courses).toEqual([]);
        return;
      }
      const course = courses[0]!;
      // A session whose recording was cut is recorded again from its journal when the store opens.
      expect(course.sessions.map((s) => [s.number, s.endReason, s.outcomes.length, s.adverseEffects])).toEqual(
        Array.from({ length: began }, (_, i) => [i + 1, 'completed', 2, [{ kind: 'soreness', severity: 'mild' }]]),
      );
    } finally {
      opened.store.close();
    }
    const db = new sqlite3.Database(file);
    try {
      db.get('PRAGMA locking_mode=EXCLUSIVE');
      expect(db.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      expect(db.all('PRAGMA foreign_key_check')).toEqual([]);
    } finally {
      db.close();
    }
  }, 60_000);
});
