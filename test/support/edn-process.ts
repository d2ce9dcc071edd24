/**
 * `edn <command> ...` as a child process, for end-to-end tests of the command line: collects its
 * stdout lines (JSON objects with `--json`, each time-stamped on arrival), its stderr and its exit.
 * Each child runs in its own process group, so a test can check that nothing of it outlived it:
 *
 *     afterEach(async () => expect(await stopAllEdn()).toEqual([]));
 *     const run = startEdn(['run', '--sim', ...]);
 *     await run.nextEvent((e) => e.event === 'state' && e.state === 'running', 'running');
 *     run.child.kill('SIGINT');
 *     expect(await run.exited).toEqual({ code: 3, signal: null });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_WAIT_MS, ExpectStream } from './pty.js';
import { EDN_BIN, REPO_ROOT, processesInGroup } from './sim-process.js';
import { onLines } from './child-lines.js';

/** One JSON line of `edn ... --json`, with the time it arrived here (performance.now()). */
export interface EdnJsonLine {
  readonly event?: unknown;
  readonly at: number;
  readonly [key: string]: unknown;
}

export interface EdnExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const running = new Set<EdnProcess>();
/** Every process started since the last stopAllEdn(). */
const started = new Set<EdnProcess>();

export class EdnProcess {
  /** Every stdout line that is a JSON object, in order. */
  readonly json: ExpectStream<EdnJsonLine>;
  /** Every stdout line as text. */
  readonly lines: string[] = [];
  /** stdout lines that were not JSON objects. */
  readonly nonJson: string[] = [];
  stdout = '';
  stderr = '';
  /** Settles when the process has exited and its output is read (never rejects). */
  readonly exited: Promise<EdnExit>;
  #exit: EdnExit | undefined;

  constructor(readonly child: ChildProcess, readonly args: readonly string[]) {
    this.json = new ExpectStream<EdnJsonLine>(`edn ${args[0] ?? ''} ${child.pid ?? '?'} output`, (l) => JSON.stringify({ ...l, at: undefined }));
    this.exited = new Promise<EdnExit>((resolve) => {
      child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        running.delete(this);
        this.json.end(`the process exited (${signal ?? `code ${code}`})${this.stderr ? `; stderr: ${this.stderr.trim().slice(0, 2000)}` : ''}`);
        resolve(this.#exit);
      });
      child.once('error', (err) => {
        this.stderr += `spawn failed: ${err.message}\n`;
      });
    });
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    onLines(child.stdout, (text, at) => this.#line(text, at));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exit(): EdnExit | undefined {
    return this.#exit;
  }

  #line(text: string, at: number): void {
    this.lines.push(text);
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        this.json.push({ ...(value as Record<string, unknown>), at });
        return;
      }
    } catch {
      // not JSON
    }
    this.nonJson.push(text);
  }

  /** The next JSON line `match` accepts (see ExpectStream.next); fails after `timeoutMs` naming `what`. */
  nextEvent(match: (e: EdnJsonLine) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<EdnJsonLine> {
    return this.json.next(match, what, timeoutMs);
  }

  /** Every JSON line received, without the arrival times. */
  events(): Record<string, unknown>[] {
    return this.json.items.map(({ at: _at, ...rest }) => rest);
  }

  /** Wait for the exit, failing after `timeoutMs` (the process is then killed). */
  async waitExit(timeoutMs = 20_000): Promise<EdnExit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === 'late') {
      killGroup(this.pid);
      await this.exited;
      throw new Error(`edn ${this.args.join(' ')} did not exit within ${timeoutMs} ms (killed). stdout:\n${this.stdout.slice(-2000)}\nstderr:\n${this.stderr.slice(-2000)}`);
    }
    return result;
  }
}

/** Start `node src/cli/edn.js ...args` in the repository, in its own process group. */
export function startEdn(args: readonly string[], options: { readonly env?: Readonly<Record<string, string>>; readonly cwd?: string } = {}): EdnProcess {
  const child = spawn(process.execPath, [EDN_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const p = new EdnProcess(child, args);
  running.add(p);
  started.add(p);
  installEdnExitHook();
  return p;
}

/** Run `edn ...args` to its end (bounded by `timeoutMs`). */
export async function runEdn(args: readonly string[], timeoutMs = 20_000): Promise<EdnProcess & { readonly exit: EdnExit }> {
  const p = startEdn(args);
  await p.waitExit(timeoutMs);
  return p as EdnProcess & { readonly exit: EdnExit };
}

/**
 * For afterEach: SIGKILL every `edn` process still running and wait for it; returns a description
 * of each that was still running or left a process in its group (a test that waits for its
 * processes can assert none).
 */
export async function stopAllEdn(): Promise<string[]> {
  const left: string[] = [];
  for (const p of [...started]) {
    if (p.exit === undefined) {
      left.push(`edn ${p.args[0] ?? ''} (pid ${p.pid}) was still running`);
      killGroup(p.pid);
      await p.exited;
    }
    const group = processesInGroup(p.pid);
    if (group.length > 0) {
      left.push(`edn ${p.args[0] ?? ''} (pid ${p.pid}) left processes running: ${group.join(', ')}`);
      killGroup(p.pid);
    }
  }
  started.clear();
  return left;
}

function killGroup(pgid: number): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

let exitHookInstalled = false;
/** If the test process exits with edn processes running, kill their groups. */
function installEdnExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of running) killGroup(p.pid);
  });
}
