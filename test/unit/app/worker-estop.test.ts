/**
 * The e-stop across the controller process boundary (issue 10 §1): a UI's `estop` call leaves the
 * UI side as the `estop` op in the tick it is made, and the controller serves that op before it
 * parses anything (estopOp, a check exactly as strict as the schema); the controller's process asks
 * for a higher scheduling priority, and runs as before when refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EstopSourceSchema, type Result, type Snapshot } from '../../../src/app/contract.js';
import { raisePriority } from '../../../src/app/priority.js';
import type { ControllerService } from '../../../src/app/service.js';
import { estopOp, serveController } from '../../../src/app/worker.js';
import { type WorkerHandle, superviseController } from '../../../src/app/worker-host.js';
import { CONTROLLER_NICE, type FromWorker, PURE_WORKER_NICE, type ToWorker, ToWorkerSchema, type WorkerConfig } from '../../../src/app/worker-protocol.js';

const IDLE: Snapshot = { state: 'idle', latched: false, elapsedS: 0, totalS: 0, channels: [], electrodes: [], warnings: [], alarms: [] };
const RUNNING: Snapshot = { ...IDLE, state: 'running', elapsedS: 12, totalS: 60 };
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A fake controller worker: what the supervisor posts, and a way to answer as the worker would. */
class FakeWorker implements WorkerHandle {
  readonly posted: ToWorker[] = [];
  readonly #listeners: ((m: unknown) => void)[] = [];
  constructor(readonly config: WorkerConfig) {}
  post(message: ToWorker): void {
    this.posted.push(structuredClone(message));
  }
  onMessage(listener: (message: unknown) => void): void {
    this.#listeners.push(listener);
  }
  onExit(): void {}
  kill(): void {}
  send(message: FromWorker): void {
    for (const l of this.#listeners) l(structuredClone(message));
  }
}

function supervised() {
  const workers: FakeWorker[] = [];
  const sup = superviseController({
    dataDir: '/data/edn',
    allowHardware: false,
    factory: (config) => {
      const w = new FakeWorker(config);
      workers.push(w);
      return w;
    },
  });
  const controller = workers.find((w) => w.config.role === 'controller')!;
  return { sup, controller };
}

/** A service that records the e-stops it is handed and everything else it is asked. */
function fakeService() {
  const estops: string[] = [];
  const asked: string[] = [];
  const service = new Proxy(
    {
      snapshot: IDLE,
      problems: [],
      on: () => () => undefined,
      emergencyStop: (source: string): Promise<Result<null>> => {
        estops.push(source);
        return Promise.resolve({ ok: true, data: null });
      },
    },
    {
      get(target, key, receiver) {
        if (key in target) return Reflect.get(target, key, receiver) as unknown;
        return () => {
          asked.push(String(key));
          return Promise.resolve({ ok: true, data: null });
        };
      },
    },
  ) as unknown as ControllerService;
  return { service, estops, asked };
}

function served() {
  const { service, estops, asked } = fakeService();
  const posted: FromWorker[] = [];
  let deliver: (m: unknown) => void = () => undefined;
  serveController(service, { post: (m) => posted.push(m), onMessage: (l) => (deliver = l) });
  return { deliver: (m: unknown) => deliver(m), posted, estops, asked };
}

describe('H5 the e-stop across the controller process boundary', () => {
  it("sends a UI's estop call as the estop op in the same tick, and answers with the controller's confirmation", async () => {
    const { sup, controller } = supervised();
    controller.send({ kind: 'ready', snapshot: RUNNING, problems: [] });
    await sup.ready();
    const answer = sup.estop({ source: 'keyboard' });
    // Synchronously: not as an ordinary call, and nothing on this side before it.
    expect(controller.posted).toEqual([{ kind: 'op', op: { op: 'estop', seq: 1, source: 'keyboard' } }]);
    controller.send({ kind: 'done', seq: 1, result: { ok: true, data: null } });
    expect(await answer).toEqual({ ok: true, data: null });
    // A refusal of the controller reaches the UI as it was given.
    const refused = sup.estop({ source: 'button' });
    controller.send({ kind: 'done', seq: 2, result: { ok: false, error: { code: 'ESTOP_UNCONFIRMED', message: 'no OK ESTOP within 2 s' } } });
    expect(await refused).toEqual({ ok: false, error: { code: 'ESTOP_UNCONFIRMED', message: 'no OK ESTOP within 2 s' } });
  });

  it('answers an estop call with an unknown source BAD_INPUT, naming the sources, and posts nothing', async () => {
    const { sup, controller } = supervised();
    controller.send({ kind: 'ready', snapshot: RUNNING, problems: [] });
    await sup.ready();
    const r = await sup.estop({ source: 'elbow' } as never);
    expect(r.ok ? 'ok' : r.error.code).toBe('BAD_INPUT');
    expect(r.ok ? '' : r.error.message).toBe(`estop: source must be one of ${EstopSourceSchema.options.join(', ')}`);
    expect(controller.posted).toEqual([]);
  });

  it('an estop call while the first controller is still starting is sent as the op once it is ready', async () => {
    const { sup, controller } = supervised();
    const answer = sup.estop({ source: 'button' });
    await tick();
    expect(controller.posted).toEqual([]);
    controller.send({ kind: 'ready', snapshot: IDLE, problems: [] });
    await tick();
    expect(controller.posted).toEqual([{ kind: 'op', op: { op: 'estop', seq: 1, source: 'button' } }]);
    controller.send({ kind: 'done', seq: 1, result: { ok: true, data: null } });
    expect(await answer).toEqual({ ok: true, data: null });
  });

  it('the controller hands an estop op to the service before the listener returns, and answers done with its seq', async () => {
    const { deliver, posted, estops, asked } = served();
    posted.length = 0; // the ready message
    deliver({ kind: 'op', op: { op: 'estop', seq: 7, source: 'keyboard' } });
    expect(estops).toEqual(['keyboard']);
    await tick();
    expect(posted).toEqual([{ kind: 'done', seq: 7, result: { ok: true, data: null } }]);
    expect(asked).toEqual([]);
  });

  it('the controller serves no e-stop from a message the schema refuses (an extra key, a bad seq, an unknown source)', async () => {
    const { deliver, estops } = served();
    for (const bad of [
      { kind: 'op', op: { op: 'estop', seq: 1, source: 'keyboard', extra: 1 } },
      { kind: 'op', op: { op: 'estop', seq: 1, source: 'keyboard' }, extra: 1 },
      { kind: 'op', op: { op: 'estop', seq: -1, source: 'keyboard' } },
      { kind: 'op', op: { op: 'estop', seq: 1.5, source: 'keyboard' } },
      { kind: 'op', op: { op: 'estop', seq: 1, source: 'elbow' } },
      { kind: 'op', op: { op: 'estop', seq: 1 } },
    ]) {
      deliver(bad);
    }
    await tick();
    expect(estops).toEqual([]);
  });

  it('estopOp accepts exactly the estop ops ToWorkerSchema accepts', () => {
    const field = fc.oneof(fc.constant(undefined), fc.integer({ min: -3, max: 3 }), fc.double(), fc.string(), fc.constantFrom(...EstopSourceSchema.options), fc.constant(null));
    const message = fc.record(
      {
        kind: fc.constantFrom('op', 'call', 'opx', undefined),
        op: fc.oneof(
          fc.record({ op: fc.constantFrom('estop', 'dispose', 'Estop'), seq: fc.oneof(fc.nat(), field), source: fc.oneof(fc.constantFrom(...EstopSourceSchema.options), field), extra: field }, { requiredKeys: ['op'] }),
          field,
        ),
        extra: field,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(message, (raw) => {
        const schema = ToWorkerSchema.safeParse(raw);
        const isEstop = schema.success && schema.data.kind === 'op' && schema.data.op.op === 'estop';
        const fast = estopOp(raw);
        expect(fast !== undefined).toBe(isEstop);
        if (fast && schema.success && schema.data.kind === 'op' && schema.data.op.op === 'estop') expect(fast).toEqual({ seq: schema.data.op.seq, source: schema.data.op.source });
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the controller process above ordinary processes', () => {
  it('asks the system for CONTROLLER_NICE (above 0, and above the pure worker), and survives a refusal', () => {
    expect(CONTROLLER_NICE).toBeLessThan(0);
    expect(CONTROLLER_NICE).toBeLessThan(PURE_WORKER_NICE);
    const calls: [number, number][] = [];
    expect(raisePriority(4242, undefined, (pid, p) => calls.push([pid, p]))).toBe(true);
    expect(calls).toEqual([[4242, CONTROLLER_NICE]]);
    // 0 leaves the process alone (the benchmark's "before"), as does a process not spawned.
    expect(raisePriority(4242, 0, (pid, p) => calls.push([pid, p]))).toBe(false);
    expect(raisePriority(undefined, CONTROLLER_NICE, (pid, p) => calls.push([pid, p]))).toBe(false);
    expect(
      raisePriority(1, CONTROLLER_NICE, () => {
        throw new Error('EACCES: permission denied');
      }),
    ).toBe(false);
    expect(calls).toHaveLength(1);
  });
});
