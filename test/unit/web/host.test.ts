import * as http from 'node:http';
import type { SchedulerLike } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ControlView, WireReplySchema, type Snapshot } from '../../../src/app/contract.js';
import { UI_LIVENESS_MS, UI_PING_MS } from '../../../src/app/ui-timing.js';
import { openTransport } from '../../../src/device/open.js';
import { readJournal } from '../../../src/session/journal.js';
import { GRACE_MS, type RendererPage, type WebHost, isLoopback, startWebHost, tokenMatches } from '../../../src/web/host.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';
import { answersFrom, serviceHarness, type ServiceHarness } from '../app/service-harness.js';

const PAGE: RendererPage = {
  html: '<!doctype html><html><head><title>fixture</title><script type="module" src="/main.js"></script></head><body>fixture page</body></html>',
  assets: new Map([['/main.js', { type: 'text/javascript; charset=utf-8', body: 'export {};\n' }]]),
};

let harnesses: ServiceHarness[] = [];
let hosts: WebHost[] = [];
let sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets) ws.terminate();
  sockets = [];
  for (const h of hosts) await h.close();
  hosts = [];
  for (const h of harnesses) {
    expect(h.invalidOutputs).toEqual([]);
    await h.dispose();
  }
  harnesses = [];
});

async function setup(options: { graceMs?: number } = {}) {
  const scheduler = new ManualScheduler();
  /** Every line the host wrote to the device, with the virtual time it was written at. */
  const frames: { atMs: number; line: string }[] = [];
  const h = serviceHarness({
    scheduler,
    service: {
      openTransport: async (p: string, s: SchedulerLike) => {
        const opened = await openTransport(p, s, { seed: 7 });
        const write = opened.transport.write.bind(opened.transport);
        opened.transport.write = (line: string) => {
          frames.push({ atMs: s.now(), line });
          write(line);
        };
        return opened;
      },
    },
  });
  harnesses.push(h);
  const log: string[] = [];
  const host = await startWebHost({ service: h.service, page: () => Promise.resolve(PAGE), scheduler, validateOutput: true, log: (m) => log.push(m), ...options });
  hosts.push(host);
  clock = () => scheduler.now();
  return { h, host, scheduler, log, frames };
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(host: WebHost, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A client with an inbox; resolves when open, or with the refusal's status and body. */
interface Client {
  ws: WebSocket;
  inbox: unknown[];
  next(predicate: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  call(id: number, call: string, input: unknown): Promise<Record<string, unknown>>;
  /** Answers the host's pings with `heartbeat` while true (a page whose code runs). */
  alive: boolean;
  /** Pings received, pings answered, and the host's answers to those received. */
  pings: number;
  answered: number;
  acknowledged: number;
  /** Virtual time of the last answer to a ping (the host reads it at that same time). */
  lastAnsweredAt: number;
  /** The latest `control` event. */
  control(): ControlView | undefined;
}

/** Heartbeat call ids, apart from the tests' own. */
let heartbeatIds = 100_000;
/** The virtual clock of the host under test (set by setup). */
let clock: () => number = () => 0;

function connect(url: string, origin: string | undefined): Promise<Client | { refused: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    sockets.push(ws);
    const inbox: unknown[] = [];
    const heartbeats = new Set<number>();
    const waiters: { predicate: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
    const self = { alive: true, pings: 0, answered: 0, acknowledged: 0, lastAnsweredAt: -1 };
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (m.event === 'ping') self.pings += 1;
      if (m.event === 'ping' && self.alive) {
        const id = heartbeatIds++;
        heartbeats.add(id);
        self.answered += 1;
        self.lastAnsweredAt = clock();
        ws.send(JSON.stringify({ id, call: 'heartbeat', input: { seq: (m.data as { seq: number }).seq } }));
      }
      if (typeof m.id === 'number' && heartbeats.delete(m.id)) {
        self.acknowledged += 1;
        return;
      }
      inbox.push(m);
      for (const w of [...waiters]) {
        if (w.predicate(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const next = (predicate: (m: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((res) => {
        const found = inbox.find((m) => predicate(m as Record<string, unknown>));
        if (found) res(found as Record<string, unknown>);
        else waiters.push({ predicate, resolve: res });
      });
    const client: Client = Object.assign(self, {
      ws,
      inbox,
      next,
      call: (id: number, call: string, input: unknown) => {
        ws.send(JSON.stringify({ id, call, input }));
        return next((m) => m.id === id);
      },
      control: () => (inbox.filter((m) => (m as { event?: unknown }).event === 'control').at(-1) as { data: ControlView } | undefined)?.data,
    });
    ws.on('open', () => resolve(client));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ refused: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    ws.on('error', reject);
  });
}

async function client(host: WebHost, clientId?: string): Promise<Client> {
  const c = await connect(clientId === undefined ? host.wsUrl : `${host.wsUrl}&client=${clientId}`, host.origin);
  if ('refused' in c) throw new Error(`refused ${c.refused}: ${c.body}`);
  return c;
}

/**
 * Wait for the host to see something that arrives over a real socket, turn by turn of the event
 * loop (no timers; virtual time does not move), giving up after 5 s of real time.
 */
async function eventually(predicate: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

describe('web host: who may connect', () => {
  it('binds 127.0.0.1 only', async () => {
    const h = serviceHarness();
    harnesses.push(h);
    for (const host of ['0.0.0.0', '::', 'localhost', '192.168.1.10', '::1']) {
      await expect(startWebHost({ service: h.service, page: () => Promise.resolve(PAGE), host })).rejects.toThrow(/127\.0\.0\.1 only/);
    }
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.8.9.10')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', '', undefined]) expect(isLoopback(a), String(a)).toBe(false);
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'ab')).toBe(false);
    expect(tokenMatches('abc', null)).toBe(false);
  });

  it('serves the page only with the token, with strict headers, and refuses everything else with 403', async () => {
    const { host } = await setup();
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[A-Za-z0-9_-]{32}$`));
    const token = new URL(host.url).searchParams.get('token')!;

    const none = await request(host, '/');
    expect(none.status).toBe(403);
    expect(none.body).toMatch(/token/);
    const wrong = await request(host, `/?token=${'x'.repeat(32)}`);
    expect(wrong.status).toBe(403);
    const shortWrong = await request(host, '/?token=abc');
    expect(shortWrong.status).toBe(403);

    const ok = await request(host, `/?token=${token}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('fixture page');
    expect(ok.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = ok.headers['content-security-policy']!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${host.port}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.headers['referrer-policy']).toBe('no-referrer');
    // Refusals carry the same headers.
    expect(none.headers['content-security-policy']).toBe(csp);

    const js = await request(host, '/main.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await request(host, '/../../etc/passwd')).status).toBe(404);
    expect((await request(host, '/index.js')).status).toBe(404);

    // DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host.
    const rebound = await request(host, `/?token=${token}`, { headers: { Host: `evil.example:${host.port}` } });
    expect(rebound.status).toBe(403);
    expect((await request(host, `/?token=${token}`, { headers: { Host: `localhost:${host.port}` } })).status).toBe(403);
    expect((await request(host, `/?token=${token}`, { method: 'POST' })).status).toBe(403);

    expect(host.refusals).toMatchObject({ 'no-token': 1, 'bad-token': 2, 'bad-host': 2, 'bad-method': 1, 'not-found': 2 });
  });

  it('refuses WebSockets from another origin, without or with a wrong token, or at another path', async () => {
    const { host } = await setup();
    const token = new URL(host.url).searchParams.get('token')!;
    const base = `ws://127.0.0.1:${host.port}`;
    const cases: [string, string | undefined, number, RegExp][] = [
      [host.wsUrl, 'http://evil.example', 403, /Origin/],
      [host.wsUrl, `http://localhost:${host.port}`, 403, /Origin/],
      [host.wsUrl, 'null', 403, /Origin/],
      [host.wsUrl, undefined, 403, /Origin/],
      [`${base}/ws`, host.origin, 403, /token/],
      [`${base}/ws?token=${'y'.repeat(32)}`, host.origin, 403, /wrong token/],
      [`${base}/other?token=${token}`, host.origin, 404, /no WebSocket/],
    ];
    for (const [url, origin, status, body] of cases) {
      const r = await connect(url, origin);
      expect('refused' in r ? r.refused : 'open', `${url} from ${origin}`).toBe(status);
      if ('refused' in r) expect(r.body).toMatch(body);
    }
    expect(host.clients).toBe(0);
    expect(host.refusals).toMatchObject({ 'bad-origin': 4, 'no-token': 1, 'bad-token': 1, 'not-found': 1 });
  });
});

describe('web host: the contract over the WebSocket', () => {
  it('sends the snapshot first, answers calls by id, pushes events, and answers garbage with BAD_INPUT', async () => {
    const { host } = await setup();
    const c = await client(host);
    const first = await c.next(() => true);
    expect(first).toMatchObject({ event: 'snapshot', data: { state: 'idle' } });
    expect(host.clients).toBe(1);

    const ports = await c.call(1, 'listPorts', {});
    expect(WireReplySchema.safeParse(ports).success).toBe(true);
    expect(ports).toEqual({ id: 1, result: { ok: true, data: [{ path: 'sim', kind: 'simulator', label: 'Simulated stimulator (no hardware)', likelyStimulator: false }] } });

    const settings = await c.call(2, 'setSettings', { clinician: 'JD' });
    expect(settings).toMatchObject({ id: 2, result: { ok: true, data: { clinician: 'JD' } } });

    const bad = await c.call(3, 'titrate', { deltaMa: 5 });
    expect(bad).toMatchObject({ id: 3, result: { ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'deltaMa' }] } } });
    const unknown = await c.call(4, 'rm -rf', {});
    expect(unknown).toMatchObject({ id: 4, result: { ok: false, error: { code: 'BAD_INPUT' } } });

    c.ws.send('{not json');
    expect(await c.next((m) => m.id === null)).toMatchObject({ id: null, result: { ok: false, error: { code: 'BAD_INPUT' } } });
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await eventually(() => c.inbox.filter((m) => (m as { id?: unknown }).id === null).length === 2, 'a reply to the binary frame');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('pushes every snapshot of a session to every client', async () => {
    const { h, host } = await setup();
    const a = await client(host);
    const b = await client(host);
    expect(host.clients).toBe(2);
    await h.must('connect', { path: 'sim' });
    await a.next((m) => m.event === 'snapshot' && (m.data as Snapshot).state === 'ready');
    await b.next((m) => m.event === 'snapshot' && (m.data as Snapshot).state === 'ready');
    a.ws.close();
    await eventually(() => host.clients === 1, 'the host to see a client go');
  });
});

describe('web host: a UI that vanishes with output on (virtual time)', () => {
  async function running(h: ServiceHarness): Promise<void> {
    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
    await h.must('start', { targetMa: 1 });
    await h.run(1000);
    expect(h.service.snapshot.state).toMatch(/ramping|running/);
  }

  it('e-stops 2 s after the last client went away, unless one comes back', async () => {
    const { h, host, log } = await setup();
    const c = await client(host);
    await running(h);

    // A reload: the page goes away and comes back within the grace period.
    c.ws.close();
    await eventually(() => host.clients === 0, 'the host to see the page go');
    await h.run(GRACE_MS - 500);
    const reloaded = await client(host);
    await h.run(GRACE_MS * 2);
    expect(h.service.outputMayBeOn()).toBe(true);
    expect(host.graceStops).toBe(0);
    expect(await reloaded.next((m) => m.event === 'snapshot')).toMatchObject({ event: 'snapshot' });

    // Gone for good: nothing happens until exactly the grace period has passed.
    reloaded.ws.close();
    await eventually(() => host.clients === 0, 'the host to see the page go');
    await h.run(GRACE_MS - 10, 5);
    expect(h.service.outputMayBeOn()).toBe(true);
    await h.run(10, 5);
    expect(h.service.snapshot.state).toBe('stopped');
    expect(h.service.snapshot.reason).toBe('emergency stop (connection-lost)');
    expect(h.service.outputMayBeOn()).toBe(false);
    expect(host.graceStops).toBe(1);
    expect(log).toEqual([`no user interface for ${GRACE_MS} ms with output on: emergency stop`]);
  });

  it('e-stops output started while no client is connected', async () => {
    const { h, host } = await setup();
    await running(h);
    expect(host.clients).toBe(0);
    await h.run(GRACE_MS + 100);
    expect(h.service.snapshot.state).toBe('stopped');
    expect(host.graceStops).toBe(1);
  });

  it('leaves a session without output alone', async () => {
    const { h, host } = await setup();
    const c = await client(host);
    await h.must('connect', { path: 'sim' });
    c.ws.close();
    await eventually(() => host.clients === 0, 'the host to see the page go');
    await h.run(GRACE_MS * 3);
    expect(h.service.snapshot.state).toBe('ready');
    expect(host.graceStops).toBe(0);
  });
});

// ---- one controlling page, and its signs of life ----------------------------------------------------

const KNEE = 'knee-oa-periosteal';

/** `c`, over its own socket, connects the simulator, screens and starts output at 1 mA (virtual time runs meanwhile). */
async function startFrom(h: ServiceHarness, c: Client, ids = 1): Promise<void> {
  const ok = (r: Record<string, unknown>) => expect(r.result, JSON.stringify(r.result)).toMatchObject({ ok: true });
  ok(await h.drive(c.call(ids, 'connect', { path: 'sim' })));
  const form = await c.call(ids + 1, 'screeningForm', { protocolId: KNEE });
  const template = (form.result as { data: { template: unknown } }).data.template;
  ok(await h.drive(c.call(ids + 2, 'submitScreening', { side: 'left', protocolId: KNEE, answers: answersFrom(template, 'PT-0042'), acknowledgements: [] })));
  ok(await h.drive(c.call(ids + 3, 'start', { targetMa: 1 })));
  expect(h.service.snapshot.state).toMatch(/ramping|running/);
}

/**
 * Virtual time passes in 50 ms steps; after each, the pages' answers to the pings it brought are
 * read by the host before time moves on (as they would be on a real clock).
 */
async function live(h: ServiceHarness, host: WebHost, clients: readonly Client[], ms: number): Promise<void> {
  const end = h.scheduler.now() + ms;
  while (h.scheduler.now() < end) {
    h.scheduler.advanceTo(Math.min(end, h.scheduler.now() + 50));
    await settle(20);
    await eventually(() => clients.reduce((n, c) => n + c.pings, 0) === host.pings && clients.every((c) => c.acknowledged === c.answered), 'the pings answered');
  }
}

const isEstop = (f: { line: string }) => /^\d+ ESTOP\b/.test(f.line);

describe('web host: a frozen page (issue 9 item 3)', () => {
  it('a page that answers its pings runs on; once its code stops, output is e-stopped UI_LIVENESS_MS after its last answer, and the journal says why', async () => {
    const { h, host, frames, log } = await setup();
    const a = await client(host);
    await startFrom(h, a);
    expect(a.control()).toMatchObject({ role: 'controller', label: 'window 1' });
    const journal = h.service.snapshot.journal!;
    await live(h, host, [a], 10_000);
    expect(h.service.snapshot.state).toBe('running');
    expect(a.answered).toBeGreaterThanOrEqual(10_000 / UI_PING_MS);
    expect(frames.filter(isEstop)).toEqual([]);

    // The page freezes: its socket stays open (the browser still pongs), its code answers nothing.
    a.alive = false;
    const last = a.lastAnsweredAt;
    await live(h, host, [a], last + UI_LIVENESS_MS - 1 - h.scheduler.now());
    expect(h.service.outputMayBeOn()).toBe(true);
    await live(h, host, [a], 50);
    // What reached the device: the ESTOP frame, at exactly the end of the liveness window.
    expect(frames.filter(isEstop).map((f) => f.atMs)[0]).toBe(last + UI_LIVENESS_MS);
    expect(h.service.snapshot).toMatchObject({ state: 'stopped', reason: 'emergency stop (ui-unresponsive)', latched: true });
    expect(host.unresponsiveStops).toBe(1);
    expect(host.graceStops).toBe(0);
    expect(log).toContain(`window 1, which controls the session, gave no sign of life for ${UI_LIVENESS_MS} ms with output on: emergency stop`);
    const estops = readJournal({ path: journal }).records.flatMap((r) => (r.type === 'estop' ? [r.data] : []));
    expect(estops).toEqual([
      { source: 'ui-unresponsive', acked: false },
      { source: 'ui-unresponsive', acked: true },
    ]);
    expect(a.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a reload (the same client id) resumes control within the grace period', async () => {
    const { h, host } = await setup();
    const a = await client(host);
    await startFrom(h, a);
    const id = a.control()!.client;
    a.ws.close();
    await eventually(() => host.clients === 0, 'the host to see the page go');
    await live(h, host, [], GRACE_MS - 500);
    const again = await client(host, id);
    await eventually(() => again.control() !== undefined, 'the control event');
    expect(again.control()).toMatchObject({ client: id, role: 'controller', label: 'window 1' });
    await live(h, host, [again], GRACE_MS * 3);
    expect(h.service.outputMayBeOn()).toBe(true);
    expect(await again.call(20, 'titrate', { deltaMa: 0.1 })).toMatchObject({ result: { ok: true, data: { targets: [{ channel: 1, targetMa: 1.1 }, { channel: 2, targetMa: 1.1 }], refused: [] } } });
  });
});

describe('web host: one controlling page per session (issue 9 item 4)', () => {
  it("a second page watches live but may not change the session; Emergency stop works from it; a take-over is confirmed, journaled and shown to both", async () => {
    const { h, host, frames } = await setup();
    const a = await client(host);
    const b = await client(host);
    await startFrom(h, a);
    const journal = h.service.snapshot.journal!;
    await live(h, host, [a, b], 3000);
    expect(b.control()).toMatchObject({ role: 'observer', label: 'window 2', controller: 'window 1', controllerPresent: true, others: 1 });
    // Observers see everything live.
    expect(b.inbox.some((m) => (m as { event?: string; data?: Snapshot }).event === 'snapshot' && (m as { data: Snapshot }).data.state === 'running')).toBe(true);

    const titrate = await b.call(10, 'titrate', { deltaMa: 0.5 });
    expect(titrate).toMatchObject({ id: 10, result: { ok: false, error: { code: 'NOT_CONTROLLER' } } });
    expect((titrate.result as { error: { message: string } }).error.message).toMatch(/^titrate refused: window 1 controls this session/);
    expect(await b.call(11, 'stop', {})).toMatchObject({ result: { ok: false, error: { code: 'NOT_CONTROLLER' } } });
    expect(await b.call(12, 'pause', {})).toMatchObject({ result: { ok: false, error: { code: 'NOT_CONTROLLER' } } });
    expect(await b.call(13, 'addNote', { text: 'not mine to write' })).toMatchObject({ result: { ok: false, error: { code: 'NOT_CONTROLLER' } } });
    expect(h.service.snapshot.channels.map((c) => c.targetMa)).toEqual([1, 1]);
    expect(h.service.snapshot.state).toBe('running');

    // A take-over: explicit and confirmed.
    expect(await b.call(14, 'takeControl', {})).toMatchObject({ result: { ok: false, error: { code: 'BAD_INPUT' } } });
    expect(await b.call(15, 'takeControl', { confirmed: true })).toMatchObject({ result: { ok: true, data: { role: 'controller', takeover: { from: 'window 1', to: 'window 2' } } } });
    await eventually(() => a.control()?.role === 'observer', 'the first page to be told');
    expect(a.control()).toMatchObject({ role: 'observer', controller: 'window 2', takeover: { seq: 1, from: 'window 1', to: 'window 2' } });
    expect(await a.call(30, 'titrate', { deltaMa: 0.1 })).toMatchObject({ result: { ok: false, error: { code: 'NOT_CONTROLLER' } } });
    expect(await b.call(16, 'titrate', { deltaMa: 0.5 })).toMatchObject({ result: { ok: true, data: { targets: [{ channel: 1, targetMa: 1.5 }, { channel: 2, targetMa: 1.5 }], refused: [] } } });
    await live(h, host, [a, b], 1000);

    // The observer's Emergency stop reaches the device at once.
    const before = frames.filter(isEstop).length;
    expect(await h.drive(a.call(31, 'estop', { source: 'button' }))).toMatchObject({ result: { ok: true } });
    expect(frames.filter(isEstop).length).toBeGreaterThan(before);
    expect(h.service.snapshot).toMatchObject({ state: 'stopped', reason: 'emergency stop (button)' });

    const records = readJournal({ path: journal }).records;
    expect(records.filter((r) => r.type === 'control').map((r) => r.data)).toEqual([{ change: 'take-over', from: 'window 1', to: 'window 2', fromPresent: true }]);
    // Only the controller's titration is in the record.
    expect(records.filter((r) => r.type === 'titration')).toHaveLength(1);
  });
});
