/**
 * The controller worker's entry: under `edn web` a child process runs it (src/app/worker-node.ts,
 * from the cached CLI-style bundle or through tsx), a worker_threads Worker may (no serial port), in the desktop app an Electron
 * utilityProcess runs its bundle (out/main/controller.cjs). It reads its WorkerConfig, assembles
 * the service the one way (assembly.ts) and serves it (worker.ts).
 *
 * It starts when loaded (a bundle loaded by src/cli/launch.js `loadBundle` calls `main` too, which
 * returns the same start).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createControllerService } from './assembly.js';
import { serveController } from './worker.js';
import { CONFIG_ARG, type FromWorker, WorkerConfigSchema, type WorkerPort } from './worker-protocol.js';

/** Electron's utilityProcess side (`process.parentPort`), structurally: @types/node does not know it. */
interface ElectronParentPort {
  on(event: 'message', listener: (e: { readonly data: unknown }) => void): void;
  postMessage(message: unknown): void;
}


function portOf(): { port: WorkerPort; config: unknown } | undefined {
  const electron = (process as { parentPort?: ElectronParentPort }).parentPort;
  if (electron) {
    const arg = process.argv.find((a) => a.startsWith(CONFIG_ARG));
    let config: unknown;
    try {
      config = arg === undefined ? undefined : JSON.parse(arg.slice(CONFIG_ARG.length));
    } catch {
      config = undefined;
    }
    return { port: { post: (m) => electron.postMessage(m), onMessage: (l) => electron.on('message', (e) => l(e.data)) }, config };
  }
  const send = process.send?.bind(process);
  const data = process.env.EDN_WORKER_DATA;
  if (send && data !== undefined) {
    // A child process of `edn web` (worker-node.ts): its IPC channel.
    let config: unknown;
    try {
      config = (JSON.parse(data) as { config?: unknown }).config;
    } catch {
      config = undefined;
    }
    process.on('disconnect', () => process.exit(0)); // the UI side is gone: nothing left to serve
    return { port: { post: (m) => void send(m), onMessage: (l) => process.on('message', l) }, config };
  }
  const p = parentPort;
  if (!p) return undefined;
  return { port: { post: (m) => p.postMessage(m), onMessage: (l) => p.on('message', l) }, config: (workerData as { config?: unknown } | null)?.config };
}

async function start(): Promise<number> {
  const found = portOf();
  if (!found) return 1; // loaded outside a worker: nothing to serve
  const fail = (message: string): number => {
    const m: FromWorker = { kind: 'failed', message };
    found.port.post(m);
    return 1;
  };
  const config = WorkerConfigSchema.safeParse(found.config);
  if (!config.success) return fail(`bad worker config: ${config.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { role, dataDir, allowHardware, appVersion, serialPaths } = config.data;
  try {
    // The pure worker never opens a device: it serves only protocol and report calls.
    const service = createControllerService({ dataDir, allowHardware: role === 'controller' && allowHardware, appVersion, serialPaths });
    await serveController(service, found.port).disposed;
    return 0;
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

const started = start();

export function main(): Promise<number> {
  return started;
}
