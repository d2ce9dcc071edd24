/**
 * The simulator as its own process, for real-I/O tests: spawns `node src/cli/edn.js simulate --pty
 * --json ...`, waits for its `ready` line, collects every JSON event it prints, sends control
 * commands on its stdin, and stops it cleanly. Each process runs in its own process group (it and
 * the socat it starts), so a test can check that nothing of it is left running afterwards:
 *
 *     afterEach(async () => {
 *       expect(await closeAllHostPorts()).toEqual([]);
 *       await stopAllSimulators(); // throws if a process of theirs outlived them
 *     });
 *     const sim = await startSimulator({ args: ['--seed', '7'] });
 *     const port = await openHostPort(sim.path);
 *     sim.control({ fault: 'reboot' });
 *     await sim.nextEvent({ event: 'boot' });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WAIT_MS, ExpectStream } from './pty.js';
import { onLines } from './child-lines.js';

/** The repository root and the `edn` bin (run through tsx; no build step). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EDN_BIN = fileURLToPath(new URL('../../src/cli/edn.js', import.meta.url));

/** One line of `edn simulate --json` output. */
export interface SimJsonEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

export interface StartSimulatorOptions {
  /** Extra arguments after `simulate --pty --json`, e.g. `['--seed', '7', '--fault', 'reboot@2s']`. */
  readonly args?: readonly string[];
  /** Pass `--link PATH`. */
  readonly link?: string;
  /** Deadline for the `ready` line, in ms (node + tsx + socat start-up). Default 20000. */
  readonly readyTimeoutMs?: number;
  /** Extra environment variables (e.g. `EDN_SOCAT`). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SimExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const running = new Set<SimProcess>();
let exitHookInstalled = false;

export class SimProcess {
  /** Every JSON object printed on stdout after `ready` (and `ready` itself, first). */
  readonly events: ExpectStream<SimJsonEvent>;
  /** stdout lines that were not a JSON object (there must be none in --json mode). */
  readonly nonJson: string[] = [];
  /** Everything written on stderr. */
  stderr = '';
  /** The host end of the pty (`/dev/pts/N`), from the `ready` line. */
  path = '';
  /** The link path, when `--link` was given. */
  link: string | undefined;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<SimExit>;
  #exit: SimExit | undefined;
  #stopping: Promise<SimExit> | undefined;

  constructor(readonly child: ChildProcess) {
    this.events = new ExpectStream<SimJsonEvent>(`simulator ${child.pid ?? '?'} events`);
    this.exited = new Promise<SimExit>((resolve) => {
      child.once('close', (code, signal) => {
        this.#exit = { code, signal };
        this.events.end(`the simulator exited (${signal ?? `code ${code}`})${this.stderr ? `; stderr: ${this.stderr.trim()}` : ''}`);
        running.delete(this);
        resolve(this.#exit);
      });
      child.once('error', (err) => {
        this.stderr += `spawn failed: ${err.message}\n`;
      });
    });
    // Writing a control command to a simulator that has just exited must not crash the test.
    child.stdin?.on('error', () => undefined);
    onLines(child.stdout, (text) => this.#line(text));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The exit status once exited, else undefined. */
  get exit(): SimExit | undefined {
    return this.#exit;
  }

  #line(text: string): void {
    if (text.trim() === '') return;
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { event?: unknown }).event === 'string') {
        this.events.push(value as SimJsonEvent);
        return;
      }
    } catch {
      // fall through
    }
    this.nonJson.push(text);
  }

  /**
   * Wait for the next event matching `match`: a predicate, or an object whose every property must
   * equal the event's (e.g. `{event: 'output', channel: 1, on: true}`).
   */
  nextEvent(match: Partial<SimJsonEvent> | ((e: SimJsonEvent) => boolean), what?: string, timeoutMs = DEFAULT_WAIT_MS): Promise<SimJsonEvent> {
    const test = typeof match === 'function' ? match : (e: SimJsonEvent) => matches(e, match);
    return this.events.next(test, what ?? (typeof match === 'function' ? 'a matching event' : `event ${JSON.stringify(match)}`), timeoutMs);
  }

  /** Send one control command on stdin: an object (sent as a JSON line) or a raw line. */
  control(command: object | string): void {
    const line = typeof command === 'string' ? command : JSON.stringify(command);
    this.child.stdin?.write(`${line}\n`);
  }

  /**
   * Stop the simulator as a user would (SIGTERM by default; the command shuts down cleanly and
   * exits 0) and wait for it. After `timeoutMs` its whole process group is killed and this
   * rejects. Idempotent.
   */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<SimExit> {
    this.#stopping ??= (async () => {
      if (this.#exit) return this.#exit;
      this.child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), timeoutMs);
      });
      const result = await Promise.race([this.exited, late]);
      clearTimeout(timer);
      if (result === 'late') {
        killGroup(this.pid);
        await this.exited;
        throw new Error(`the simulator (pid ${this.pid}) did not exit within ${timeoutMs} ms of ${signal}; killed its process group. stderr: ${this.stderr.trim()}`);
      }
      return result;
    })();
    return this.#stopping;
  }

  /** Processes of this simulator's group still alive (it and its socat). */
  leftovers(): number[] {
    return processesInGroup(this.pid);
  }
}

function matches(event: SimJsonEvent, want: Partial<SimJsonEvent>): boolean {
  return Object.entries(want).every(([k, v]) => JSON.stringify(event[k]) === JSON.stringify(v));
}

/**
 * Start `edn simulate --pty --json [args]` and resolve once it printed `ready`. Rejects (with its
 * stderr, e.g. "socat is not installed ...") if it exits or stays silent first.
 */
export async function startSimulator(options: StartSimulatorOptions = {}): Promise<SimProcess> {
  installExitHook();
  const args = [EDN_BIN, 'simulate', '--pty', '--json', ...(options.link === undefined ? [] : ['--link', options.link]), ...(options.args ?? [])];
  // detached: its own process group, so the simulator and its socat can be found (and, as a last
  // resort, killed) together.
  const env = { ...process.env, ...options.env };
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const sim = new SimProcess(child);
  running.add(sim);
  let ready: SimJsonEvent;
  try {
    ready = await sim.nextEvent({ event: 'ready' }, "the simulator's ready line", options.readyTimeoutMs ?? 20_000);
  } catch (err) {
    await sim.stop('SIGTERM', 5000).catch(() => undefined);
    throw err;
  }
  if (typeof ready.path !== 'string') throw new Error(`ready line without a path: ${JSON.stringify(ready)}`);
  sim.path = ready.path;
  if (typeof ready.link === 'string') sim.link = ready.link;
  return sim;
}

/**
 * Stop every simulator still running (SIGTERM, then SIGKILL of its group) and check that nothing
 * of theirs is left. Throws, naming what misbehaved, if one did not exit cleanly with code 0 or
 * left a process behind.
 */
export async function stopAllSimulators(): Promise<void> {
  const sims = [...running];
  const problems: string[] = [];
  await Promise.all(
    sims.map(async (sim) => {
      try {
        const exit = await sim.stop();
        if (exit.code !== 0) problems.push(`simulator ${sim.pid} exited with ${exit.signal ?? `code ${exit.code}`}: ${sim.stderr.trim()}`);
      } catch (err) {
        problems.push(String(err));
      }
      const left = sim.leftovers();
      if (left.length > 0) {
        killGroup(sim.pid);
        problems.push(`simulator ${sim.pid} left processes running: ${left.join(', ')}`);
      }
    }),
  );
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** Pids whose process group is `pgid` (Linux /proc), excluding zombies. */
export function processesInGroup(pgid: number): number[] {
  if (pgid <= 0) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) found.push(Number(entry));
  }
  return found;
}

function killGroup(pgid: number): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** If the test process exits with simulators still running, kill their groups. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const sim of running) killGroup(sim.pid);
  });
}
