/**
 * `kill -9` of a process writing a journal: a real child process (test/fixtures/journals/
 * kill-writer.ts) appends records as fast as it can and reports on stdout each safety-relevant
 * record it appended. After it has reported a random number of them it is killed with SIGKILL,
 * at whatever point of its loop it is. The journal must then read back with an intact chain, at
 * most a torn last line, and every record it reported. Every wait is for a line of the child's
 * output, with a bounded deadline; there are no fixed sleeps.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { readJournal } from '../../src/session/journal.js';

const WRITER = path.join(import.meta.dirname, '../fixtures/journals/kill-writer.ts');
const REPO = path.join(import.meta.dirname, '../..');
const DEADLINE_MS = 20_000;

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Reported {
  readonly path: string;
  readonly safe: readonly { readonly n: number; readonly type: string }[];
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Start the writer, kill it with SIGKILL once it reported `killAfter` safety records, and collect what it said. */
function runAndKill(killAfter: number): Promise<Reported> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-kill-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, `KILL-${killAfter}`], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let journalPath = '';
  const safe: { n: number; type: string }[] = [];

  return new Promise<Reported>((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the writer reported ${safe.length} of ${killAfter} records within ${DEADLINE_MS} ms; stderr:\n${stderr}`));
    }, DEADLINE_MS);
    let killed = false;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (killed) return; // anything after the kill signal was sent is not counted
      const [word, n, type] = line.split(' ');
      if (word === 'path') journalPath = line.slice(5);
      else if (word === 'safe' && n !== undefined && type !== undefined) safe.push({ n: Number(n), type });
      if (safe.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    // 'close' comes after the process exited and its output streams ended.
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (!killed) reject(new Error(`the writer exited by itself (${signal ?? code}); stderr:\n${stderr}`));
      else resolve({ path: journalPath, safe, signal, stderr });
    });
  });
}

describe('a journal writer killed with SIGKILL', () => {
  const counts = [1, 2 + Math.floor(Math.random() * 50), 50 + Math.floor(Math.random() * 400), 500 + Math.floor(Math.random() * 1500)];

  it.each(counts)('after %i reported safety records: the journal reads back intact with every reported record', async (killAfter) => {
    const reported = await runAndKill(killAfter);
    expect(reported.signal).toBe('SIGKILL');
    expect(reported.safe.length).toBe(killAfter);
    const read = readJournal({ path: reported.path });
    expect(read.problems).toEqual([]);
    expect(read.chainIntact).toBe(true);
    if (read.truncatedTail) expect(read.truncatedTail.bytes).toBeGreaterThan(0);
    read.records.forEach((r, i) => expect(r.n).toBe(i));
    for (const { n, type } of reported.safe) expect(read.records[n]?.type, `record ${n}`).toBe(type);
    expect(read.records.length).toBeGreaterThanOrEqual(reported.safe[reported.safe.length - 1]!.n + 1);
    expect(read.records[0]!.type).toBe('session-start');
  }, 30_000);
});
