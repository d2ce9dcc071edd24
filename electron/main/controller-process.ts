/**
 * The controller worker as an Electron utilityProcess (VS Code's pattern for its extension host
 * and shared process): main forks out/main/controller.cjs (src/app/worker-entry.ts bundled) and
 * talks to it with postMessage; src/app/worker-host.ts supervises it exactly as it supervises the
 * child process of `edn web`. Thin on purpose: the fork function is injected (Electron's
 * `utilityProcess.fork` in main.ts, a fake in the tests), so everything here is unit-tested
 * without the Electron binary, and main.ts passing the real one type-checks it against
 * electron.d.ts.
 */
import type { WorkerFactory, WorkerHandle } from '../../src/app/worker-host.js';
import { lowerPriority } from '../../src/app/priority.js';
import { CONFIG_ARG } from '../../src/app/worker-protocol.js';

/** The part of Electron's UtilityProcess used (structural). */
export interface UtilityProcessLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'spawn', listener: () => void): unknown;
  /** The OS process id, once spawned. */
  readonly pid?: number | undefined;
  kill(): boolean;
}

/** Electron's `utilityProcess.fork` (structural). */
export type UtilityFork = (modulePath: string, args: string[], options: { serviceName: string; stdio: 'inherit' }) => UtilityProcessLike;

/** Forks the controller's bundle with the config on its command line (worker-entry.ts reads it). */
export function utilityProcessFactory(fork: UtilityFork, modulePath: string, lower: (pid: number | undefined) => boolean = lowerPriority): WorkerFactory {
  return (config): WorkerHandle => {
    const child = fork(modulePath, [`${CONFIG_ARG}${JSON.stringify(config)}`], { serviceName: `EDN ${config.role}`, stdio: 'inherit' });
    // The pure process (validations, reports) runs below the controller (PURE_WORKER_NICE).
    if (config.role === 'pure') child.on('spawn', () => void lower(child.pid));
    const exits: ((why: string) => void)[] = [];
    let gone: string | undefined;
    child.on('exit', (code) => {
      gone ??= `the ${config.role} process exited with code ${code}`;
      for (const l of exits.splice(0)) l(gone);
    });
    return {
      post: (m) => child.postMessage(m),
      onMessage: (l) => child.on('message', l),
      onExit: (l) => (gone === undefined ? exits.push(l) : l(gone)),
      kill: () => void child.kill(),
    };
  };
}
