/**
 * The controller worker as a child Node process (`edn web`; why not a worker_threads Worker: see
 * nodeWorkerFactory). The child runs a small bootstrap that loads the worker entry
 * (worker-entry.ts) one of two ways:
 *
 * - from a CommonJS bundle of it, built and cached by src/cli/launch.js exactly as the CLI's own
 *   bundle is (`edn web` asks for it at start): inside the CLI's bundle a
 *   `new Worker(new URL('./x.ts', import.meta.url))` would not resolve, and a bundle starts in
 *   milliseconds where tsx compiles the sources for about a second;
 * - else through tsx (tests, EDN_CLI_CACHE=off, a failed build), as the CLI itself falls back.
 *
 * Both paths are absolute, resolved here: inside the CLI bundle `import.meta.url` is this source
 * file's own location (launch.js rewrites it), so the sources are found beside it either way.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import type { WorkerFactory, WorkerHandle } from './worker-host.js';
import { lowerPriority, raisePriority } from './priority.js';
import { CONTROLLER_NICE } from './worker-protocol.js';

/** The worker entry's source (what a bundle is built from, and what tsx runs). */
export const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));

export interface NodeWorkerOptions {
  /** A CommonJS bundle of WORKER_ENTRY and the loader that runs it (launch.js `loadBundle`). */
  readonly bundle?: { readonly file: string; readonly loader: string; readonly root: string } | undefined;
  /** Another entry to run through tsx instead of WORKER_ENTRY (the benchmark's instrumented one). */
  readonly entry?: string;
  /** The nice value the controller's process asks for (default CONTROLLER_NICE; 0 leaves it alone: the benchmark compares). */
  readonly controllerNice?: number;
}

/**
 * The URL of tsx's ESM API (`tsx/esm/api` under the `import` condition). require.resolve would
 * give its CommonJS twin, which cannot register the ESM hooks in a fresh process; the package's
 * own exports map names the ESM file.
 */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, { import?: { default?: string } | string }> };
  const entry = pkg.exports?.['./esm/api']?.import;
  const file = typeof entry === 'string' ? entry : entry?.default;
  if (file === undefined) throw new Error(`${manifest} names no ESM entry for tsx/esm/api`);
  return pathToFileURL(path.join(path.dirname(manifest), file)).href;
}

/** The environment variable that carries the worker's start data (config and how to load). */
export const WORKER_DATA_ENV = 'EDN_WORKER_DATA';

// Plain JavaScript, run by `node -e` in the child: it must not need compiling itself.
const BOOTSTRAP = `
const data = JSON.parse(process.env.${WORKER_DATA_ENV});
(async () => {
  if (data.bundle) {
    const { loadBundle } = await import(data.bundle.loader);
    loadBundle(data.bundle.file, data.bundle.root);
  } else {
    const { register } = await import(data.tsx);
    register();
    await import(data.entry);
  }
})().catch((e) => {
  process.send({ kind: 'failed', message: 'the worker did not load: ' + (e && e.stack ? e.stack : String(e)) });
  process.exitCode = 1;
  process.disconnect();
});
`;

/**
 * Starts each worker as a child Node process with an IPC channel (structured clone). Not a
 * worker_threads Worker: serialport's native binding polls the port on the process's main event
 * loop, and a port opened in a worker thread aborts the whole process (V8 "Entering the V8 API
 * without proper locking") at its first byte. A process is also what Electron's utilityProcess is,
 * so both hosts have the same failure model: a crash of the controller ends only the controller,
 * and the OS closes its port.
 */
export function nodeWorkerFactory(options: NodeWorkerOptions = {}): WorkerFactory {
  const tsx = tsxEsmApi();
  return (config): WorkerHandle => {
    const bundle = options.bundle ? { file: options.bundle.file, loader: pathToFileURL(options.bundle.loader).href, root: options.bundle.root } : undefined;
    const data = { config, bundle, tsx, entry: pathToFileURL(options.entry ?? WORKER_ENTRY).href };
    const child = spawn(process.execPath, ['-e', BOOTSTRAP], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
      env: { ...process.env, [WORKER_DATA_ENV]: JSON.stringify(data) },
    });
    if (config.role === 'pure') lowerPriority(child.pid);
    else raisePriority(child.pid, options.controllerNice ?? CONTROLLER_NICE);
    let error: string | undefined;
    const exits: ((why: string) => void)[] = [];
    let gone = false;
    const exit = (why: string): void => {
      if (gone) return;
      gone = true;
      for (const l of exits.splice(0)) l(why);
    };
    child.on('error', (e) => {
      error = e.message;
      exit(`worker failed: ${error}`);
    });
    child.on('exit', (code, signal) => exit(signal ? `worker killed by ${signal}` : `worker exited with code ${String(code)}`));
    // A closed channel is a dead worker for this side, whatever the process does next.
    child.on('disconnect', () => exit('worker closed its channel'));
    return {
      post: (m) => {
        if (child.connected) child.send(m);
      },
      onMessage: (l) => child.on('message', l),
      onExit: (l) => (gone ? l('worker already gone') : exits.push(l)),
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
