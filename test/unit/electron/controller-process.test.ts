/**
 * The desktop app's controller in an Electron utilityProcess (electron/main/controller-process.ts)
 * under the supervisor (src/app/worker-host.ts), with a fake `utilityProcess.fork`: the Electron
 * binary cannot run here. What is checked is what crosses the boundary: the config on the fork's
 * command line, the messages posted, the validation of what comes back, and what main shows and
 * does when the process dies.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/app/contract.js';
import { superviseController } from '../../../src/app/worker-host.js';
import { CONFIG_ARG, type ToWorker, WorkerConfigSchema } from '../../../src/app/worker-protocol.js';
import { type UtilityProcessLike, utilityProcessFactory } from '../../../electron/main/controller-process.js';

class FakeUtility extends EventEmitter implements UtilityProcessLike {
  readonly posted: ToWorker[] = [];
  killed = false;
  pid: number | undefined;
  constructor(
    readonly modulePath: string,
    readonly args: string[],
    readonly options: { serviceName: string },
  ) {
    super();
  }
  postMessage(message: unknown): void {
    this.posted.push(structuredClone(message) as ToWorker);
  }
  kill(): boolean {
    this.killed = true;
    queueMicrotask(() => this.emit('exit', 9));
    return true;
  }
  /** What the controller would send (structured-cloned, as across a process). */
  send(message: unknown): void {
    this.emit('message', structuredClone(message));
  }
  get role(): string {
    const arg = this.args.find((a) => a.startsWith(CONFIG_ARG))!;
    return WorkerConfigSchema.parse(JSON.parse(arg.slice(CONFIG_ARG.length))).role;
  }
}

const RUNNING: Snapshot = { state: 'running', latched: false, elapsedS: 12, totalS: 60, channels: [], electrodes: [], warnings: [], alarms: [] };
const MODULE = '/opt/edn/out/main/controller.cjs';
const tick = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const forks: FakeUtility[] = [];
  const lowered: (number | undefined)[] = [];
  const factory = utilityProcessFactory(
    (file, args, options) => {
      const f = new FakeUtility(file, args, options);
      forks.push(f);
      return f;
    },
    MODULE,
    (pid) => {
      lowered.push(pid);
      return true;
    },
  );
  const logs: string[] = [];
  const sup = superviseController({ dataDir: '/data/edn', allowHardware: true, appVersion: '1.2.3', factory, log: (m) => logs.push(m) });
  const of = (role: string) => forks.filter((f) => f.role === role);
  return { forks, sup, logs, of, lowered };
}

describe('the controller in a utilityProcess, supervised by main', () => {
  it('forks the controller bundle and a pure worker, with the config on the command line', () => {
    const { forks } = setup();
    expect(forks.map((f) => f.modulePath)).toEqual([MODULE, MODULE]);
    const configs = forks.map((f) => WorkerConfigSchema.parse(JSON.parse(f.args[0]!.slice(CONFIG_ARG.length))));
    expect(configs).toEqual([
      { role: 'controller', dataDir: '/data/edn', allowHardware: true, appVersion: '1.2.3' },
      { role: 'pure', dataDir: '/data/edn', allowHardware: true, appVersion: '1.2.3' },
    ]);
    expect(forks.map((f) => f.options.serviceName)).toEqual(['EDN controller', 'EDN pure']);
  });

  it('lowers the pure process below the controller once it is spawned, never the controller', () => {
    const { of, lowered } = setup();
    const [controller, pure] = [of('controller')[0]!, of('pure')[0]!];
    controller.pid = 4100;
    pure.pid = 4101;
    expect(lowered).toEqual([]);
    controller.emit('spawn');
    pure.emit('spawn');
    expect(lowered).toEqual([4101]);
  });

  it('posts an e-stop in the same tick it is asked for, and answers with the controller\'s confirmation', async () => {
    const { sup, of } = setup();
    const c = of('controller')[0]!;
    c.send({ kind: 'ready', snapshot: RUNNING, problems: [] });
    await sup.ready();
    expect(sup.outputMayBeOn()).toBe(true);
    const stopped = sup.emergencyStop('button');
    // Synchronously: nothing on main's side comes before it.
    expect(c.posted).toEqual([{ kind: 'op', op: { op: 'estop', seq: 1, source: 'button' } }]);
    c.send({ kind: 'done', seq: 1, result: { ok: true, data: null } });
    expect(await stopped).toEqual({ ok: true, data: null });
  });

  it('checks results again on main\'s side: a reply outside the contract becomes INTERNAL', async () => {
    const { sup, of } = setup();
    const c = of('controller')[0]!;
    c.send({ kind: 'ready', snapshot: RUNNING, problems: [] });
    await sup.ready();
    const r = sup.getSettings({});
    await tick();
    const call = c.posted.find((m) => m.kind === 'call');
    expect(call).toMatchObject({ kind: 'call', message: { call: 'getSettings', input: {} } });
    const id = (call as { message: { id: number } }).message.id;
    c.send({ kind: 'reply', reply: { id, result: { ok: true, data: { clinician: 42 } } } });
    const result = await r;
    expect(result.ok ? 'ok' : result.error.code).toBe('INTERNAL');
    expect(result.ok ? '' : result.error.message).toMatch(/^getSettings returned a result outside the contract: data\./);
  });

  it('sends heavy pure calls to the pure worker, never to the controller', async () => {
    const { sup, of } = setup();
    of('controller')[0]!.send({ kind: 'ready', snapshot: RUNNING, problems: [] });
    const pure = of('pure')[0]!;
    pure.send({ kind: 'ready', snapshot: { ...RUNNING, state: 'idle' }, problems: [] });
    void sup.validateProtocol({ file: { big: true } });
    void sup.openReport({ sessionId: 's1', format: 'md' });
    await tick();
    expect(pure.posted.map((m) => (m.kind === 'call' ? (m.message as { call: string }).call : m.kind))).toEqual(['validateProtocol', 'openReport']);
    expect(of('controller')[0]!.posted.filter((m) => m.kind === 'call')).toEqual([]);
  });

  it('a controller that dies: pending calls answered INTERNAL, a high "controller stopped" alarm at once, a new process that connects again', async () => {
    const { sup, of, logs } = setup();
    const c = of('controller')[0]!;
    c.send({ kind: 'ready', snapshot: RUNNING, problems: [] });
    await sup.ready();
    // It was connected to a port: the new one must connect to it again (a fresh HELLO).
    const connect = sup.connect({ path: '/dev/ttyUSB0' });
    await tick();
    const cid = (c.posted.find((m) => m.kind === 'call') as { message: { id: number } }).message.id;
    c.send({
      kind: 'reply',
      reply: {
        id: cid,
        result: {
          ok: true,
          data: {
            transport: '/dev/ttyUSB0',
            model: 'EDN-SIM4',
            firmware: '1.0.0',
            serial: 'SIM-1',
            bootId: '0000ABCD',
            limits: { channels: 2, frequencyHz: { min: 1, max: 150 }, pulseWidthUs: { min: 50, max: 400 }, amplitudeMa: { min: 0, max: 20 }, maxChargePerPhaseUc: 8, maxDurationS: 3600, complianceV: 60, watchdogMs: 1000 },
          },
        },
      },
    });
    expect((await connect).ok).toBe(true);
    const snapshots: Snapshot[] = [];
    sup.on((e) => {
      if (e.event === 'snapshot') snapshots.push(e.data);
    });
    const pending = sup.getSnapshot({});
    await tick();
    c.emit('exit', 134);
    // At once: in the same turn as the exit event.
    expect(snapshots.at(-1)?.state).toBe('aborted');
    expect(snapshots.at(-1)?.alarms).toEqual([
      expect.objectContaining({ id: 'controller-stopped-1', priority: 'high', cause: 'controller stopped: the controller process exited with code 134' }),
    ]);
    expect(sup.outputMayBeOn()).toBe(false);
    const answered = await pending;
    expect(answered.ok ? 'ok' : answered.error.code).toBe('INTERNAL');
    expect(logs.some((l) => l.includes('the controller worker stopped'))).toBe(true);
    // An e-stop now says that nothing can be sent (the device's watchdog is what stops it).
    const estop = await sup.emergencyStop('button');
    expect(estop.ok ? 'ok' : estop.error.message).toMatch(/watchdog/);

    await tick();
    const next = of('controller')[1];
    expect(next).toBeDefined();
    next!.send({ kind: 'ready', snapshot: { ...RUNNING, state: 'idle' }, problems: [] });
    await tick();
    expect(next!.posted.find((m) => m.kind === 'call')).toMatchObject({ message: { call: 'connect', input: { path: '/dev/ttyUSB0' } } });
    // The alarm stays on the new controller's snapshots until it is acknowledged (main answers that).
    expect(sup.snapshot.state).toBe('idle');
    expect(sup.snapshot.alarms.map((a) => a.id)).toEqual(['controller-stopped-1']);
    expect(await sup.acknowledgeAlarm({ id: 'controller-stopped-1' })).toEqual({ ok: true, data: null });
    expect(sup.snapshot.alarms).toEqual([]);
    expect(sup.stats).toEqual({ deaths: 1, starts: 2, pureStarts: 1 });
  });

  it('stops restarting a controller that dies before it is ready, three times in a row', async () => {
    const { sup, of, logs } = setup();
    for (let i = 0; i < 3; i++) {
      of('controller')[i]!.emit('exit', 1);
      await tick();
    }
    expect(of('controller')).toHaveLength(3);
    expect(logs.at(-1)).toMatch(/failed to start 3 times in a row/);
    await sup.ready();
    expect(sup.stats.starts).toBe(3);
  });

  it('disposes in order: e-stop with output on, then a dispose to each process, then kills them', async () => {
    const { sup, of } = setup();
    const c = of('controller')[0]!;
    const pure = of('pure')[0]!;
    c.send({ kind: 'ready', snapshot: RUNNING, problems: [] });
    pure.send({ kind: 'ready', snapshot: { ...RUNNING, state: 'idle' }, problems: [] });
    const disposing = sup.dispose();
    expect(c.posted[0]).toEqual({ kind: 'op', op: { op: 'estop', seq: 1, source: 'shutdown' } });
    c.send({ kind: 'done', seq: 1, result: { ok: true, data: null } });
    await tick();
    const disposeOf = (f: FakeUtility) => f.posted.find((m) => m.kind === 'op' && m.op.op === 'dispose') as { op: { seq: number } } | undefined;
    expect(disposeOf(c)).toBeDefined();
    expect(disposeOf(pure)).toBeDefined();
    c.send({ kind: 'done', seq: disposeOf(c)!.op.seq, result: { ok: true, data: null } });
    pure.send({ kind: 'done', seq: disposeOf(pure)!.op.seq, result: { ok: true, data: null } });
    await disposing;
    expect([c.killed, pure.killed]).toEqual([true, true]);
  });
});
