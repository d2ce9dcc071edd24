/**
 * The ControllerService on the in-process simulator and virtual time, called through the
 * dispatcher with output validation on (so every result is also checked against the contract),
 * with a throw-away data directory. `drive(p)` advances virtual time in small steps until `p`
 * settles, letting promise chains and real file I/O run between steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SchedulerLike } from 'rxjs';
import { type CallInput, type CallName, type CallOutput, EVENTS, type Result } from '../../../src/app/contract.js';
import { createDispatcher } from '../../../src/app/dispatch.js';
import { ControllerService, type ControllerServiceOptions, type ServiceEvent } from '../../../src/app/service.js';
import { openTransport } from '../../../src/device/open.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

/** Calls that wait for device replies (which need virtual time to pass). */
const DEVICE_CALLS: ReadonlySet<CallName> = new Set<CallName>(['connect', 'disconnect', 'submitScreening', 'checkElectrodes', 'start', 'pause', 'resume', 'stop', 'estop', 'clear']);

export const WALL_BASE = Date.parse('2025-03-14T09:30:00.000Z');

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

export function serviceHarness(options: { dataDir?: string; scheduler?: ManualScheduler; service?: Partial<ControllerServiceOptions> } = {}) {
  const scheduler = options.scheduler ?? new ManualScheduler();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'edn-app-'));
  let sessionNo = 0;
  const service = new ControllerService({
    dataDir,
    scheduler,
    allowHardware: false,
    openTransport: (p: string, s: SchedulerLike) => openTransport(p, s, { seed: 7 }),
    wallClock: () => new Date(WALL_BASE + scheduler.now()),
    newSessionId: () => `S${++sessionNo}`,
    ...options.service,
  });
  const invalidOutputs: string[] = [];
  const dispatch = createDispatcher(service, { validateOutput: true, onInvalidOutput: (call, problem) => invalidOutputs.push(`${call}: ${problem}`) });
  const events: ServiceEvent[] = [];
  const invalidEvents: string[] = [];
  const off = service.on((e) => {
    const parsed = EVENTS[e.event].safeParse(e.data);
    if (!parsed.success) invalidEvents.push(`${e.event}: ${parsed.error.message}`);
    events.push(e);
  });
  let seq = 0;

  /** Advance virtual time until `p` settles (failing after `limitMs` of virtual time). */
  async function drive<T>(p: Promise<T>, limitMs = 10_000, stepMs = 10): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    p.then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        done = true;
        failed = true;
        error = e;
      },
    );
    const end = scheduler.now() + limitMs;
    await settle(5);
    while (!done) {
      if (scheduler.now() >= end) throw new Error(`timed out after virtual ${limitMs} ms`);
      scheduler.advanceTo(Math.min(end, scheduler.now() + stepMs));
      await settle(20);
      if (!done) await immediate();
    }
    if (failed) throw error;
    return value as T;
  }

  /** Advance virtual time by `ms`, settling between steps. */
  async function run(ms: number, stepMs = 10): Promise<void> {
    const end = scheduler.now() + ms;
    while (scheduler.now() < end) {
      scheduler.advanceTo(Math.min(end, scheduler.now() + stepMs));
      await settle(20);
    }
  }

  async function until(predicate: () => boolean, limitMs: number, what: string, stepMs = 10): Promise<void> {
    const end = scheduler.now() + limitMs;
    while (!predicate()) {
      if (scheduler.now() >= end) throw new Error(`timed out (virtual ${limitMs} ms) waiting for ${what}; state ${service.snapshot.state}`);
      scheduler.advanceTo(Math.min(end, scheduler.now() + stepMs));
      await settle(20);
    }
  }

  /**
   * One call through the dispatcher, as an adapter makes it; the reply's id must match. Calls that
   * wait for the device run on virtual time; the others (files) are awaited without moving it, so
   * real disk I/O never lets a session advance by a nondeterministic amount.
   */
  async function call<C extends CallName>(name: C, input: CallInput<C>): Promise<Result<CallOutput<C>>> {
    const id = ++seq;
    const pending = dispatch({ id, call: name, input });
    const reply = DEVICE_CALLS.has(name) ? await drive(pending) : await pending;
    if (reply.id !== id) throw new Error(`reply id ${reply.id} for call ${id}`);
    return reply.result as Result<CallOutput<C>>;
  }

  /** The data of a call that must succeed. */
  async function must<C extends CallName>(name: C, input: CallInput<C>): Promise<CallOutput<C>> {
    const r = await call(name, input);
    if (!r.ok) throw new Error(`${name} failed: ${r.error.code}: ${r.error.message}`);
    return r.data;
  }

  async function dispose(): Promise<void> {
    await drive(service.dispose());
    off();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  }

  return { scheduler, dataDir, service, dispatch, events, invalidOutputs, invalidEvents, drive, run, until, call, must, dispose };
}

export type ServiceHarness = ReturnType<typeof serviceHarness>;

/** Screening answers for `template` with every answer "no", then the given overrides. */
export function answersFrom(template: unknown, patientRef: string, overrides: Record<string, boolean> = {}, siteOverrides: Record<string, boolean> = {}): unknown {
  const t = template as { answers: Record<string, boolean | null>; sites: Record<string, unknown>[] };
  const no = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? false : v]));
  return {
    ...t,
    patientRef,
    answers: { ...no(t.answers), ...overrides },
    sites: t.sites.map((s) => ({ ...no(s), ...siteOverrides })),
  };
}
