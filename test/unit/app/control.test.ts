// SessionControl on virtual time: one controlling UI per session (observers are refused session
// changes, Emergency stop is open to all, a take-over is explicit, recorded and shown to both), and
// a controlling UI that freezes or goes away with output on ends in an e-stop at the stated time.
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CALL_NAMES, type ControlView, type EstopSource, type Result, type WireReply } from '../../../src/app/contract.js';
import { CALL_ACCESS, type ControlChange, type ControlEvent, type ControlPort, SessionControl } from '../../../src/app/control.js';
import { GRACE_MS, UI_LIVENESS_MS, UI_PING_MS } from '../../../src/app/ui-timing.js';
import type { SessionState } from '../../../src/session/states.js';
import { ManualScheduler } from '../../support/virtual-time.js';

/** The service as the control sees it: output and state set by the test; e-stops and records kept. */
class FakePort implements ControlPort {
  output = false;
  readonly estops: { source: EstopSource; atMs: number }[] = [];
  readonly records: ControlChange[] = [];
  recordOpen = true;
  private readonly listeners = new Set<(e: { event: 'snapshot'; data: unknown }) => void>();
  constructor(private readonly scheduler: SchedulerLike) {}
  outputMayBeOn(): boolean {
    return this.output;
  }
  emergencyStop(source: EstopSource): Promise<Result<null>> {
    this.estops.push({ source, atMs: this.scheduler.now() });
    this.output = false;
    this.state('stopped');
    return Promise.resolve({ ok: true, data: null });
  }
  recordControl(change: ControlChange): Result<null> {
    if (!this.recordOpen) return { ok: false, error: { code: 'ILLEGAL_STATE', message: 'no session record is open' } };
    this.records.push(change);
    return { ok: true, data: null };
  }
  on(listener: (e: { event: 'snapshot'; data: unknown }) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** The service publishes a snapshot in this state. */
  state(state: SessionState): void {
    for (const l of [...this.listeners]) l({ event: 'snapshot', data: { state } });
  }
}

/** A UI: what it was sent; it answers pings while `alive`. */
class FakeUi {
  readonly controls: ControlView[] = [];
  readonly pings: number[] = [];
  alive = true;
  id = '';
  private seq = 0;
  constructor(private readonly control: SessionControl) {}
  readonly send = (event: ControlEvent): void => {
    if (event.event === 'control') this.controls.push(event.data);
    else {
      this.pings.push(event.data.seq);
      if (this.alive) void this.call('heartbeat', { seq: event.data.seq });
    }
  };
  get view(): ControlView {
    return this.controls.at(-1)!;
  }
  /** One wire call as the adapter passes it; `reached` says whether the dispatcher got it. */
  call(call: string, input: unknown = {}): { id: number; reached: boolean; reply: Promise<WireReply | { result: Result<unknown> }> } {
    let reached = false;
    const id = ++this.seq;
    const reply = this.control.handle(this.id, { id, call, input }, () => {
      reached = true;
      return Promise.resolve({ id, result: { ok: true, data: null } });
    });
    return { id, reached, reply };
  }
}

function setup(options: { state?: SessionState } = {}) {
  const scheduler = new ManualScheduler();
  const port = new FakePort(scheduler);
  const log: string[] = [];
  let n = 0;
  const control = new SessionControl({ port, scheduler, initialState: options.state ?? 'ready', newClientId: () => `client-id-${String(++n).padStart(8, '0')}`, log: (m) => log.push(m) });
  const join = (proposed?: string) => {
    const ui = new FakeUi(control);
    ui.id = control.join({ proposed, send: ui.send });
    return ui;
  };
  /** `ui` begins a session and output comes on. */
  const running = (ui: FakeUi) => {
    expect(ui.call('submitScreening', {}).reached).toBe(true);
    port.state('screening');
    port.state('checking-electrodes');
    expect(ui.call('start', { targetMa: 1 }).reached).toBe(true);
    port.output = true;
    port.state('ramping');
    port.state('running');
  };
  return { scheduler, port, control, log, join, running };
}

describe('H20 SessionControl: the controlling UI must show signs of life while output is on', () => {
  it('a page that answers its pings runs on; one that stops is e-stopped exactly UI_LIVENESS_MS after its last answer', () => {
    const { scheduler, port, control, log, join, running } = setup();
    const a = join();
    running(a);
    scheduler.advance(60_000);
    expect(port.estops).toEqual([]);
    expect(a.pings.length).toBe(60_000 / UI_PING_MS);
    expect(control.stats.pings).toBe(a.pings.length);

    // The page freezes (a debugger pause, SIGSTOP): pings keep coming, nobody answers.
    a.alive = false;
    const lastAnswer = scheduler.now();
    scheduler.advanceTo(lastAnswer + UI_LIVENESS_MS - 1);
    expect(port.estops).toEqual([]);
    scheduler.advance(1);
    expect(port.estops).toEqual([{ source: 'ui-unresponsive', atMs: lastAnswer + UI_LIVENESS_MS }]);
    expect(control.stats.stops).toEqual({ 'connection-lost': 0, 'ui-unresponsive': 1 });
    expect(log).toEqual([`window 1, which controls the session, gave no sign of life for ${UI_LIVENESS_MS} ms with output on: emergency stop`]);
    // Once stopped, nothing more happens.
    scheduler.advance(60_000);
    expect(port.estops).toHaveLength(1);
  });

  it('any call counts as a sign of life; only the controlling UI is pinged', () => {
    const { scheduler, port, join, running } = setup();
    const a = join();
    const b = join();
    running(a);
    a.alive = false;
    for (let i = 0; i < 10; i++) {
      scheduler.advance(UI_LIVENESS_MS - 100);
      a.call('getSnapshot');
    }
    expect(port.estops).toEqual([]);
    expect(b.pings).toEqual([]);
    expect(a.pings.length).toBeGreaterThan(0);
    // An observer's silence is not the controller's: b never answers anything, and nothing happens.
    scheduler.advance(UI_LIVENESS_MS - 100);
    expect(port.estops).toEqual([]);
  });

  it('with no output on, a silent page is left alone (screening, electrode check, ended)', () => {
    const { scheduler, port, join } = setup();
    const a = join();
    a.alive = false;
    a.call('submitScreening');
    port.state('screening');
    scheduler.advance(60_000);
    port.state('checking-electrodes');
    scheduler.advance(60_000);
    expect(port.estops).toEqual([]);
  });

  it('a deadline that falls due after the host itself stalled looks once more, after the waiting sign of life is read', () => {
    const scheduler = new StallScheduler();
    const port = new FakePort(scheduler);
    const control = new SessionControl({ port, scheduler, initialState: 'ready', newClientId: () => 'client-id-00000001' });
    const ui = new FakeUi(control);
    ui.alive = false;
    ui.id = control.join({ send: ui.send });
    ui.call('submitScreening');
    port.state('screening');
    port.state('checking-electrodes');
    ui.call('start', { targetMa: 1 });
    port.output = true;
    port.state('running');

    // The host's loop stalls for 5 s; the page's heartbeat arrived meanwhile and waits in the socket.
    scheduler.nowMs = UI_LIVENESS_MS + 2000;
    scheduler.runTurn(); // the timers of this turn, the deadline among them (late): it does not judge yet
    expect(port.estops).toEqual([]);
    ui.call('heartbeat', { seq: 1 }); // the I/O of the same turn of the loop
    scheduler.runTurn();
    expect(port.estops).toEqual([]);
    // Silent from here: stopped at the new deadline (after one more turn).
    scheduler.nowMs += UI_LIVENESS_MS;
    scheduler.runTurn();
    scheduler.runTurn();
    expect(port.estops.map((e) => e.source)).toEqual(['ui-unresponsive']);
  });
});

describe('SessionControl: a controlling UI that goes away', () => {
  it('output on: e-stop GRACE_MS after its connection closed, although an observer is still there', () => {
    const { scheduler, port, control, join, running } = setup();
    const a = join();
    const b = join();
    running(a);
    scheduler.advance(1000);
    const left = scheduler.now();
    control.leave(a.id);
    expect(b.view).toMatchObject({ role: 'observer', controller: 'window 1', controllerPresent: false });
    scheduler.advanceTo(left + GRACE_MS - 1);
    expect(port.estops).toEqual([]);
    scheduler.advance(1);
    expect(port.estops).toEqual([{ source: 'connection-lost', atMs: left + GRACE_MS }]);
  });

  it('a reload (the same id within the grace period) resumes control without a take-over', () => {
    const { scheduler, port, control, join, running } = setup();
    const a = join();
    running(a);
    control.leave(a.id);
    scheduler.advance(GRACE_MS - 500);
    const again = join(a.id);
    expect(again.id).toBe(a.id);
    expect(again.view).toMatchObject({ role: 'controller', label: 'window 1', controllerPresent: true });
    expect(again.view.takeover).toBeUndefined();
    scheduler.advance(60_000);
    expect(port.estops).toEqual([]);
    expect(port.records).toEqual([]);
    expect(again.call('titrate', { deltaMa: 0.1 }).reached).toBe(true);
  });

  it('an observer that reloads (its own id) keeps its name; a fresh id gets a new one', () => {
    const { control, join, running } = setup();
    const a = join();
    running(a);
    const b = join();
    expect(b.view).toMatchObject({ role: 'observer', label: 'window 2', others: 1 });
    control.leave(b.id);
    const again = join(b.id);
    expect(again.id).toBe(b.id);
    expect(again.view).toMatchObject({ role: 'observer', label: 'window 2', controller: 'window 1', others: 1 });
    expect(join().view.label).toBe('window 3');
  });

  it('a proposed id that is connected already, or malformed, gets a fresh one', () => {
    const { join } = setup();
    const a = join();
    expect(join(a.id).id).not.toBe(a.id);
    expect(join('short').id).toMatch(/^client-id-/);
    expect(join('has spaces in it, too long?').id).toMatch(/^client-id-/);
  });

  it('no UI at all and nobody in control: e-stop GRACE_MS after output came on', () => {
    const { scheduler, port } = setup({ state: 'checking-electrodes' });
    port.output = true;
    port.state('ramping');
    scheduler.advance(GRACE_MS - 1);
    expect(port.estops).toEqual([]);
    scheduler.advance(1);
    expect(port.estops).toEqual([{ source: 'connection-lost', atMs: GRACE_MS }]);
  });
});

describe('H21 SessionControl: one controlling UI per session', () => {
  it('the UI that begins the session controls it; another is refused every session change with NOT_CONTROLLER, before the service sees it', async () => {
    const { join, running } = setup();
    const a = join();
    const b = join();
    expect(a.view).toMatchObject({ role: 'free', others: 1 });
    running(a);
    expect(a.view).toMatchObject({ role: 'controller', label: 'window 1', controllerPresent: true, others: 1 });
    expect(b.view).toMatchObject({ role: 'observer', label: 'window 2', controller: 'window 1', controllerPresent: true });

    for (const call of CALL_NAMES) {
      if (CALL_ACCESS[call] !== 'controller') continue;
      const { reached, reply } = b.call(call, {});
      expect(reached, call).toBe(false);
      const r = await reply;
      expect(r.result, call).toMatchObject({ ok: false, error: { code: 'NOT_CONTROLLER' } });
      if (!r.result.ok) expect(r.result.error.message).toMatch(new RegExp(`^${call} refused: window 1 controls this session; .*Emergency stop works from here`));
    }
    // The refusal answers the call it refuses (its id).
    const titrate = b.call('titrate', { deltaMa: 0.5 });
    const refused = await titrate.reply;
    expect('id' in refused && refused.id).toBe(titrate.id);
    // Reading, and the Emergency stop (passed on in the same tick), are open to every UI.
    for (const call of ['getSnapshot', 'listProtocols', 'openReport', 'estop'] as const) expect(b.call(call, {}).reached, call).toBe(true);
    expect(a.call('titrate', { deltaMa: 0.5 }).reached).toBe(true);
  });

  it('a take-over is explicit and confirmed, recorded in the session record, and shown to both', async () => {
    const { scheduler, port, log, join, running } = setup();
    const a = join();
    const b = join();
    running(a);
    expect((await b.call('takeControl', {}).reply).result).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect((await b.call('takeControl', { confirmed: false }).reply).result).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(port.records).toEqual([]);

    const taken = await b.call('takeControl', { confirmed: true }).reply;
    expect(taken.result).toMatchObject({ ok: true, data: { role: 'controller', label: 'window 2', takeover: { seq: 1, from: 'window 1', to: 'window 2' } } });
    expect(port.records).toEqual([{ change: 'take-over', from: 'window 1', to: 'window 2', fromPresent: true }]);
    expect(a.view).toMatchObject({ role: 'observer', controller: 'window 2', takeover: { seq: 1, from: 'window 1', to: 'window 2' } });
    expect(b.view).toMatchObject({ role: 'controller', takeover: { seq: 1, from: 'window 1', to: 'window 2' } });
    expect(log).toContain('window 2 took control of the session from window 1');

    expect(a.call('titrate', { deltaMa: 0.1 }).reached).toBe(false);
    expect(b.call('titrate', { deltaMa: 0.1 }).reached).toBe(true);
    // The new controller is the one pinged, and the one whose silence counts.
    const before = a.pings.length;
    a.alive = true;
    b.alive = false;
    const took = scheduler.now();
    scheduler.advance(UI_LIVENESS_MS);
    expect(a.pings.length).toBe(before);
    expect(port.estops).toEqual([{ source: 'ui-unresponsive', atMs: took + UI_LIVENESS_MS }]);
  });

  it('taking control from a UI that went away says so in the record, and cancels its grace e-stop', async () => {
    const { scheduler, port, control, join, running } = setup();
    const a = join();
    const b = join();
    running(a);
    control.leave(a.id);
    scheduler.advance(GRACE_MS / 2);
    await b.call('takeControl', { confirmed: true }).reply;
    expect(port.records).toEqual([{ change: 'take-over', from: 'window 1', to: 'window 2', fromPresent: false }]);
    scheduler.advance(GRACE_MS * 5);
    expect(port.estops).toEqual([]);
    // The first UI comes back: it now watches.
    const back = join(a.id);
    expect(back.view).toMatchObject({ role: 'observer', controller: 'window 2' });
  });

  it('a take-over with no session record open is still made, and the log says it is not in the record', async () => {
    const { port, log, join, running } = setup();
    const a = join();
    const b = join();
    running(a);
    port.recordOpen = false;
    expect((await b.call('takeControl', { confirmed: true }).reply).result).toMatchObject({ ok: true, data: { role: 'controller' } });
    await Promise.resolve();
    expect(log).toContain('the take-over is not in the session record: no session record is open');
  });

  it('when the session is over control is free again: any UI may begin the next one', () => {
    const { port, join, running } = setup();
    const a = join();
    const b = join();
    running(a);
    port.output = false;
    port.state('completed');
    expect(b.call('newSession').reached).toBe(false);
    expect(a.call('newSession').reached).toBe(true);
    port.state('ready');
    expect(a.view.role).toBe('free');
    expect(b.view).toMatchObject({ role: 'free', controllerPresent: false });
    expect(b.view.controller).toBeUndefined();
    // A screening that does not clear begins nothing: the other UI may still begin one.
    expect(a.call('submitScreening').reached).toBe(true);
    expect(b.call('submitScreening').reached).toBe(true);
    port.state('screening');
    expect(b.view.role).toBe('controller');
    expect(a.call('cancelSession').reached).toBe(false);
  });

  it('a session begun without any UI (in-process) is controlled by the first UI to act on it', () => {
    const { port, join } = setup({ state: 'checking-electrodes' });
    const a = join();
    const b = join();
    expect(a.view.role).toBe('free');
    expect(b.call('start', { targetMa: 1 }).reached).toBe(true);
    port.output = true;
    port.state('ramping');
    expect(b.view.role).toBe('controller');
    expect(a.call('stop').reached).toBe(false);
  });

  it('takeControl with nothing in progress takes nothing; from the controller it changes nothing', async () => {
    const { port, join, running } = setup();
    const a = join();
    expect((await a.call('takeControl', { confirmed: true }).reply).result).toMatchObject({ ok: true, data: { role: 'free' } });
    running(a);
    expect((await a.call('takeControl', { confirmed: true }).reply).result).toMatchObject({ ok: true, data: { role: 'controller' } });
    expect(a.view.takeover).toBeUndefined();
    expect(port.records).toEqual([]);
  });

  it('tells each UI only what changed for it', () => {
    const { scheduler, join, running } = setup();
    const a = join();
    running(a);
    const n = a.controls.length;
    scheduler.advance(10_000);
    expect(a.controls.length).toBe(n);
    join();
    expect(a.controls.at(-1)).toMatchObject({ others: 1 });
    expect(a.controls.length).toBe(n + 1);
  });

  it('dispose stops the pings and the deadlines', () => {
    const { scheduler, port, control, join, running } = setup();
    const a = join();
    running(a);
    a.alive = false;
    control.dispose();
    const pings = a.pings.length;
    scheduler.advance(60_000);
    expect(a.pings.length).toBe(pings);
    expect(port.estops).toEqual([]);
    expect(scheduler.pending).toBe(0);
  });
});

/**
 * A scheduler whose clock the test sets, and whose due actions run only when asked (`runTurn`), so
 * a timer can be made to fire late, as after a stalled event loop.
 */
class StallScheduler implements SchedulerLike {
  nowMs = 0;
  private readonly actions: { due: number; work: () => void; closed: boolean }[] = [];
  now(): number {
    return this.nowMs;
  }
  schedule<T>(work: (this: SchedulerAction<T>, state: T) => void, delay = 0, state?: T): Subscription {
    const entry = { due: this.nowMs + delay, work: () => work.call({} as SchedulerAction<T>, state as T), closed: false };
    this.actions.push(entry);
    return { closed: false, unsubscribe: () => void (entry.closed = true) } as unknown as Subscription;
  }
  /**
   * One turn of an event loop's timers: the actions due now run in time order; what they schedule
   * (even with no delay) waits for the next turn, as in Node, whose I/O comes in between.
   */
  runTurn(): void {
    const due = this.actions.filter((a) => !a.closed && a.due <= this.nowMs).sort((x, y) => x.due - y.due);
    for (const a of due) {
      if (a.closed) continue;
      a.closed = true;
      a.work();
    }
  }
}
