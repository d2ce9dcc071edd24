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
 *   the heavy pure calls go to a `pure` worker (worker-host.ts, HEAVY_CALLS). The UI side sends
 *   every e-stop, the UIs' included, as the `estop` op, and that message is recognised here by
 *   estopOp (a check of its few fields, exactly the schema's) before any zod parsing: the frame
 *   leaves before the message is even parsed (issue 10 §1: the e-stop's time across the process
 *   boundary; four zod parses stood in front of it as an ordinary call).
 */
import { createDispatcher } from './dispatch.js';
import { type EstopSource, EstopSourceSchema, type Result } from './contract.js';
import type { ControllerService } from './service.js';
import { type FromWorker, ToWorkerSchema, type WorkerPort } from './worker-protocol.js';

export interface ServedController {
  /** Resolves once the UI side asked for an orderly stop and the service is disposed. */
  readonly disposed: Promise<void>;
}

const ESTOP_SOURCES: ReadonlySet<unknown> = new Set<unknown>(EstopSourceSchema.options);
const hasKeys = (o: object, keys: readonly string[]): boolean => {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
};

/**
 * The e-stop op, if `raw` is exactly one (what ToWorkerSchema accepts as `{kind: 'op', op: {op:
 * 'estop', seq, source}}`: no other key, seq a non-negative integer, a known source), else
 * undefined. Plain property checks, no zod: this runs before anything else on every message.
 */
export function estopOp(raw: unknown): { readonly seq: number; readonly source: EstopSource } | undefined {
  if (typeof raw !== 'object' || raw === null || (raw as { kind?: unknown }).kind !== 'op' || !hasKeys(raw, ['kind', 'op'])) return undefined;
  const op: unknown = (raw as { op?: unknown }).op;
  if (typeof op !== 'object' || op === null || (op as { op?: unknown }).op !== 'estop' || !hasKeys(op, ['op', 'seq', 'source'])) return undefined;
  const { seq, source } = op as { seq: unknown; source: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || !ESTOP_SOURCES.has(source)) return undefined;
  return { seq, source: source as EstopSource };
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
    // The e-stop first, before any parsing (its frame is written before emergencyStop returns).
    const estop = estopOp(raw);
    if (estop) {
      void service.emergencyStop(estop.source).then((result) => post({ kind: 'done', seq: estop.seq, result }));
      return;
    }
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
