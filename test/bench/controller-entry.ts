/**
 * The controller worker's entry for the benchmark (test/bench/worker.ts), started by the
 * product's own nodeWorkerFactory (its `entry` option) as `edn web` starts src/app/worker-entry.ts:
 * the same assembly and serving (createControllerService, serveController), with the transport's
 * HB and ESTOP writes (and the arrival of each estop call, `ESTOP-IN`) timestamped and reported to the parent as `{kind: 'bench', verb, at}` beside
 * the protocol's messages (the supervisor drops them as outside its protocol; the benchmark's
 * factory taps them first). `at` is wallNow(): one clock across the processes of one machine.
 */
import { createControllerService } from '../../src/app/assembly.js';
import { serveController } from '../../src/app/worker.js';
import { WORKER_DATA_ENV } from '../../src/app/worker-node.js';
import { WorkerConfigSchema } from '../../src/app/worker-protocol.js';
import { instrumentedOpen, wallNow } from './worker-tap.js';

const send = process.send?.bind(process);
if (send) {
  const data = JSON.parse(process.env[WORKER_DATA_ENV] ?? '{}') as { config?: unknown };
  const config = WorkerConfigSchema.parse(data.config);
  // As worker-entry.ts: only the controller may open a port (the simulator only, here).
  const service = createControllerService(
    { dataDir: config.dataDir, allowHardware: false },
    config.role === 'controller' ? { openTransport: instrumentedOpen((verb, at) => void send({ kind: 'bench', verb, at })) } : {},
  );
  process.on('disconnect', () => process.exit(0));
  // The moment each e-stop call arrives here, before it is parsed and served: the IPC hop's share.
  const arrived = (m: unknown): void => {
    const call = (m as { kind?: unknown; message?: { call?: unknown } } | null)?.message?.call;
    if (call === 'estop') void send({ kind: 'bench', verb: 'ESTOP-IN', at: wallNow() });
  };
  serveController(service, {
    post: (m) => void send(m),
    onMessage: (l) =>
      process.on('message', (m) => {
        arrived(m);
        l(m);
      }),
  });
}
