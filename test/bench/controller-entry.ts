/**
 * The controller worker's entry for the benchmark (test/bench/worker.ts), started by the
 * product's own nodeWorkerFactory (its `entry` option) as `edn web` starts src/app/worker-entry.ts:
 * the same assembly and serving (createControllerService, serveController), with the transport's
 * HB and ESTOP writes (and the arrival of each e-stop message, `ESTOP-IN`) timestamped and reported
 * to the parent as `{kind: 'bench', verb, at}` beside
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
  // Its pid, for the benchmark to read the priority the product gave it (os.getPriority).
  if (config.role === 'controller') void send({ kind: 'bench', verb: 'PID', pid: process.pid });
  // The moment each e-stop arrives here (as the `estop` op, or as an ordinary call: the path the
  // benchmark compares), read before the product sees the message and reported after it served
  // it, so that reporting adds nothing to the handling measured.
  const isEstop = (m: unknown): boolean => {
    const b = m as { kind?: unknown; op?: { op?: unknown }; message?: { call?: unknown } } | null;
    return (b?.kind === 'op' && b.op?.op === 'estop') || (b?.kind === 'call' && b.message?.call === 'estop');
  };
  serveController(service, {
    post: (m) => void send(m),
    onMessage: (l) =>
      process.on('message', (m) => {
        const at = wallNow();
        l(m);
        if (isEstop(m)) void send({ kind: 'bench', verb: 'ESTOP-IN', at });
      }),
  });
}
