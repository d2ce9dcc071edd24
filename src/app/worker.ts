/**
 * The worker side of the controller boundary: serves one ControllerService to the UI side over a
 * WorkerPort (worker_threads' parentPort under `edn web`, Electron's process.parentPort in the
 * utilityProcess, a pair of in-memory ports in tests). The message shapes are in
 * worker-protocol.ts; the UI side is worker-host.ts.
 *
 * - Calls go through the contract's dispatcher with output validation on: the worker checks its
 *   own results before they leave, the UI side checks them again when they arrive.
 * - Every pushed event of the service is forwarded as it happens.
 * - `estop` is handed to the service in the same tick the message arrives (the service writes the
 *   ESTOP frame before it first yields); nothing heavy runs on this thread to delay that message:
 *   the heavy pure calls go to a `pure` worker (worker-host.ts, HEAVY_CALLS).
 */
import { createDispatcher } from './dispatch.js';
import type { Result } from './contract.js';
import type { ControllerService } from './service.js';
import { type FromWorker, ToWorkerSchema, type WorkerPort } from './worker-protocol.js';

export interface ServedController {
  /** Resolves once the UI side asked for an orderly stop and the service is disposed. */
  readonly disposed: Promise<void>;
}

export function serveController(service: ControllerService, port: WorkerPort): ServedController {
  const dispatch = createDispatcher(service, { validateOutput: true });
  const post = (m: FromWorker): void => {
    try {
      port.post(m);
    } catch {
      // The UI side is gone: this worker is about to be ended.
    }
  };
  let resolveDisposed!: () => void;
  const disposed = new Promise<void>((resolve) => {
    resolveDisposed = resolve;
  });
  service.on((e) => post({ kind: 'event', event: { event: e.event, data: e.data } }));
  port.onMessage((raw) => {
    const parsed = ToWorkerSchema.safeParse(raw);
    if (!parsed.success) return; // nothing to answer: not a message of the UI side
    const m = parsed.data;
    if (m.kind === 'call') {
      void dispatch(m.message).then((reply) => post({ kind: 'reply', reply }));
      return;
    }
    const { op } = m;
    const done = (result: Result<null>): void => post({ kind: 'done', seq: op.seq, result });
    switch (op.op) {
      case 'estop':
        void service.emergencyStop(op.source).then(done);
        return;
      case 'recordControl':
        done(service.recordControl(op.change));
        return;
      case 'dispose':
        void service.dispose().then(() => {
          done({ ok: true, data: null });
          resolveDisposed();
        });
        return;
    }
  });
  post({ kind: 'ready', snapshot: service.snapshot, problems: [...service.problems] });
  return { disposed };
}
