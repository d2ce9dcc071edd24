/**
 * A pseudo-terminal pair made by socat, for running the simulator as its own process: one end is
 * the "device" (the simulator opens it), the other is what a host opens as if it were the
 * stimulator's serial port.
 *
 * The command line (socat 1.7.4):
 *
 *     socat -d -d pty,raw,echo=0[,link=LINK] pty,raw,echo=0
 *
 * `-d -d` makes socat log `N PTY is /dev/pts/N` once per address, in address order, and then
 * `N starting data transfer loop ...` when both are open; that last line is our "ready". The FIRST
 * address is the host end (and carries the optional `link=` symlink, which socat removes when it
 * exits); the second is the device end. `raw,echo=0` gives both slaves a raw line discipline with
 * no echo (the simulator's serial port sets raw mode again when it opens its end).
 *
 * socat keeps running when a host closes and reopens its end, so one pair serves many host
 * connections. Bytes the device writes while no host has its end open stay queued in the
 * pseudo-terminal (up to about 4 KiB) and are read by the next host that opens it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, readlink, unlink } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';

/** The Debian package that provides socat (named in the error when it is missing). */
export const SOCAT_PACKAGE = 'socat';

export interface PtyPairOptions {
  /** Also make the host end available at this path (a symlink socat creates and removes). */
  readonly link?: string;
  /** Relative `link` paths are resolved against this directory. Default `process.cwd()`. */
  readonly cwd?: string;
  /** The socat executable. Default `socat` (looked up on PATH). */
  readonly socat?: string;
  /** How long socat may take to open both ends, in ms. Default 5000. */
  readonly readyTimeoutMs?: number;
}

export interface PtyExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface PtyPair {
  /** The end a host opens (`/dev/pts/N`). */
  readonly hostPath: string;
  /** The absolute link path to the host end, when `link` was given. */
  readonly linkPath?: string;
  /** The end the simulator opens (`/dev/pts/M`). */
  readonly devicePath: string;
  /** socat's process id. */
  readonly pid: number;
  /** Settles when socat exits, for whatever reason (never rejects). */
  readonly exited: Promise<PtyExit>;
  /** Stop socat (SIGTERM, then SIGKILL after `graceMs`, default 2000) and wait for it. Idempotent. */
  close(graceMs?: number): Promise<PtyExit>;
}

/** A pty pair could not be made. `code` tells why. */
export class PtyError extends Error {
  override readonly name = 'PtyError';
  constructor(
    readonly code: 'SOCAT_MISSING' | 'SOCAT_FAILED' | 'TIMEOUT' | 'BAD_LINK',
    message: string,
  ) {
    super(message);
  }
}

/** Characters a link path may contain: socat splits its address options on `,` and `:`. */
const SAFE_PATH = /^[A-Za-z0-9._/+@-]+$/;

const PTY_IS = /PTY is (\S+)/;
const READY = /starting data transfer loop/;

/** Start socat and resolve when both ends of the pair exist. */
export async function openPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const linkPath = options.link === undefined ? undefined : linkFor(options.link, options.cwd ?? process.cwd());
  const socat = options.socat ?? 'socat';
  const host = linkPath === undefined ? 'pty,raw,echo=0' : `pty,raw,echo=0,link=${linkPath}`;
  const child = spawn(socat, ['-d', '-d', host, 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<PtyExit>((done) => {
    child.once('close', (code, signal) => done({ code, signal }));
    // A spawn failure emits 'error' and then 'close' (with a negative errno as code).
    child.once('error', () => undefined);
  });

  let stderr = '';
  const paths: string[] = [];
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(
        () => fail(new PtyError('TIMEOUT', `socat did not open a pty pair within ${options.readyTimeoutMs ?? 5000} ms${tail(stderr)}`)),
        options.readyTimeoutMs ?? 5000,
      );
      const stop = (err?: Error) => {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        if (err) fail(err);
        else ready();
      };
      const onData = (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        for (const match of stderr.matchAll(new RegExp(PTY_IS, 'g'))) if (match[1] && !paths.includes(match[1])) paths.push(match[1]);
        if (paths.length >= 2 && READY.test(stderr)) stop();
      };
      child.stderr?.on('data', onData);
      child.once('error', (err: NodeJS.ErrnoException) => {
        stop(
          err.code === 'ENOENT'
            ? new PtyError('SOCAT_MISSING', `socat is not installed (no '${socat}' on PATH): install the Debian package '${SOCAT_PACKAGE}' (apt-get install ${SOCAT_PACKAGE})`)
            : new PtyError('SOCAT_FAILED', `cannot start socat: ${err.message}`),
        );
      });
      void exited.then(({ code, signal }) => stop(new PtyError('SOCAT_FAILED', `socat exited (${signal ?? `code ${code}`}) before the pty pair was ready${tail(stderr)}`)));
    });
  } catch (err) {
    await stopChild(child, exited, 2000);
    throw err;
  }
  // Keep draining stderr so socat never blocks on a full pipe (it logs at -d -d on every close).
  child.stderr?.resume();
  // If this process ends without close() (an uncaught error, process.exit), take socat along.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  void exited.then(() => process.off('exit', onExit));

  const [hostPath, devicePath] = paths as [string, string];
  let closing: Promise<PtyExit> | undefined;
  const pair: PtyPair = {
    hostPath,
    devicePath,
    pid: child.pid ?? -1,
    exited,
    close: (graceMs = 2000) => (closing ??= stopChild(child, exited, graceMs).then(async (exit) => {
      if (linkPath !== undefined) await removeLink(linkPath, hostPath);
      return exit;
    })),
    ...(linkPath === undefined ? {} : { linkPath }),
  };
  return pair;
}

function linkFor(link: string, cwd: string): string {
  const path = isAbsolute(link) ? link : resolve(cwd, link);
  if (!SAFE_PATH.test(path)) {
    throw new PtyError('BAD_LINK', `link path '${link}' may contain only letters, digits and . _ / + @ - (socat's address syntax reserves the others)`);
  }
  return path;
}

function tail(stderr: string): string {
  const text = stderr.trim().split('\n').slice(-5).join('\n');
  return text ? `; socat said:\n${text}` : '';
}

async function stopChild(child: ChildProcess, exited: Promise<PtyExit>, graceMs: number): Promise<PtyExit> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  }
  return exited;
}

/** socat removes its link when it exits normally; after a SIGKILL we do it, if it is still ours. */
async function removeLink(linkPath: string, target: string): Promise<void> {
  try {
    const stat = await lstat(linkPath);
    if (stat.isSymbolicLink() && (await readlink(linkPath)) === target) await unlink(linkPath);
  } catch {
    // Already gone.
  }
}
