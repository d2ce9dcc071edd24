import * as http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WireReplySchema, type Snapshot } from '../../../src/app/contract.js';
import { GRACE_MS, type RendererPage, type WebHost, isLoopback, startWebHost, tokenMatches } from '../../../src/web/host.js';
import { ManualScheduler } from '../../support/virtual-time.js';
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
  const h = serviceHarness({ scheduler });
  harnesses.push(h);
  const log: string[] = [];
  const host = await startWebHost({ service: h.service, page: () => Promise.resolve(PAGE), scheduler, validateOutput: true, log: (m) => log.push(m), ...options });
  hosts.push(host);
  return { h, host, scheduler, log };
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
}

function connect(url: string, origin: string | undefined): Promise<Client | { refused: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    sockets.push(ws);
    const inbox: unknown[] = [];
    const waiters: { predicate: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = [];
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
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
    ws.on('open', () =>
      resolve({
        ws,
        inbox,
        next,
        call: (id, call, input) => {
          ws.send(JSON.stringify({ id, call, input }));
          return next((m) => m.id === id);
        },
      }),
    );
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ refused: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    ws.on('error', reject);
  });
}

async function client(host: WebHost): Promise<Client> {
  const c = await connect(host.wsUrl, host.origin);
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
    await h.must('submitScreening', { protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
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
