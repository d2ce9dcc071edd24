import { describe, expect, it } from 'vitest';
import { type SocketLike, connectWebSocket, socketUrl } from '../../../electron/renderer/api-ws.js';

/** A WebSocket double: records what the client sends; the test opens, answers, pushes and drops it. */
class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000, reason = ''): void {
    this.drop(code, reason);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  receive(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

function manualTimers() {
  const timers = new Map<number, { fn: () => void; ms: number }>();
  let seq = 0;
  return {
    timers: {
      set: (fn: () => void, ms: number) => {
        timers.set(++seq, { fn, ms });
        return seq;
      },
      clear: (h: unknown) => {
        timers.delete(h as number);
      },
    },
    /** Fire every timer of this length. */
    fire(ms: number) {
      for (const [id, t] of [...timers]) {
        if (t.ms === ms) {
          timers.delete(id);
          t.fn();
        }
      }
    },
    pending: () => [...timers.values()].map((t) => t.ms),
  };
}

function setup(stored?: string) {
  const sockets: FakeSocket[] = [];
  const clock = manualTimers();
  const store = { id: stored };
  const ws = connectWebSocket('ws://127.0.0.1:1/ws?token=t', {
    open: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    callTimeoutMs: 15_000,
    reconnectMs: 500,
    timers: clock.timers,
    clientId: { get: () => store.id, set: (id) => void (store.id = id) },
  });
  return { ws, sockets, clock, store, socket: () => sockets.at(-1)! };
}

describe('the socket URL', () => {
  it('repeats the page token on /ws of the same host', () => {
    expect(socketUrl({ protocol: 'http:', host: '127.0.0.1:4321', search: '?token=abc_-1', hash: '' })).toBe('ws://127.0.0.1:4321/ws?token=abc_-1');
    expect(socketUrl({ protocol: 'https:', host: 'h', search: '', hash: '#token=x' })).toBe('wss://h/ws?token=x');
    expect(socketUrl({ protocol: 'http:', host: 'h', search: '', hash: '' })).toBeUndefined();
  });
});

describe('the contract over a WebSocket', () => {
  it('holds calls made before the first open, then sends {id, call, input} and resolves on {id, result}', async () => {
    const { ws, socket } = setup();
    const pending = ws.api.listPorts({});
    expect(socket().sent).toEqual([]);
    socket().open();
    expect(socket().sent).toEqual([{ id: 1, call: 'listPorts', input: {} }]);
    socket().receive({ id: 1, result: { ok: true, data: [] } });
    await expect(pending).resolves.toEqual({ ok: true, data: [] });
    ws.close();
  });

  it('passes error results through, and ignores replies to nothing and malformed messages', async () => {
    const { ws, socket } = setup();
    socket().open();
    const p = ws.api.start({ targetMa: 3 });
    socket().onmessage?.({ data: 'not json' });
    socket().receive({ id: null, result: { ok: false, error: { code: 'BAD_INPUT', message: 'x' } } });
    socket().receive({ id: 99, result: { ok: true, data: null } });
    socket().receive({ id: 1, result: { ok: false, error: { code: 'ILLEGAL_STATE', message: 'not ready' } } });
    await expect(p).resolves.toEqual({ ok: false, error: { code: 'ILLEGAL_STATE', message: 'not ready' } });
    ws.close();
  });

  it('delivers pushed events to subscribers of that event only', () => {
    const { ws, socket } = setup();
    socket().open();
    const snapshots: unknown[] = [];
    const telemetry: unknown[] = [];
    const off = ws.api.on('snapshot', (d) => snapshots.push(d));
    ws.api.on('telemetry', (d) => telemetry.push(d));
    socket().receive({ event: 'snapshot', data: { state: 'idle' } });
    socket().receive({ event: 'nonsense', data: 1 });
    off();
    socket().receive({ event: 'snapshot', data: { state: 'ready' } });
    expect(snapshots).toEqual([{ state: 'idle' }]);
    expect(telemetry).toEqual([]);
    ws.close();
  });

  it('fails a pending call when the connection drops, fails new calls at once while down, and reconnects', async () => {
    const { ws, sockets, socket, clock } = setup();
    const states: string[] = [];
    ws.onConnection((s) => states.push(s));
    socket().open();
    const pending = ws.api.titrate({ deltaMa: 0.1 });
    socket().drop(1006);
    const lost = await pending;
    expect(lost.ok === false && lost.error.code).toBe('INTERNAL');
    expect(lost.ok === false && lost.error.message).toMatch(/lost before it answered/);
    // Never queued for later: a titration must not arrive after its moment.
    const down = await ws.api.titrate({ deltaMa: 0.1 });
    expect(down.ok === false && down.error.message).toMatch(/not reachable/);
    expect(ws.state).toBe('closed');
    clock.fire(500);
    expect(sockets).toHaveLength(2);
    socket().open();
    expect(states).toEqual(['open', 'closed', 'connecting', 'open']);
    expect(sockets[0]!.sent).toEqual([{ id: 1, call: 'titrate', input: { deltaMa: 0.1 } }]);
    ws.close();
  });

  it('times out a call the host never answers', async () => {
    const { ws, socket, clock } = setup();
    socket().open();
    const p = ws.api.getSnapshot({});
    clock.fire(15_000);
    await expect(p).resolves.toMatchObject({ ok: false, error: { message: 'the controller did not answer "getSnapshot" within 15 s' } });
    ws.close();
  });

  it('backs off between reconnection attempts, up to 5 s', () => {
    const { ws, socket, clock } = setup();
    socket().drop();
    expect(clock.pending()).toEqual([500]);
    clock.fire(500);
    socket().drop();
    expect(clock.pending()).toEqual([1000]);
    clock.fire(1000);
    socket().drop();
    clock.fire(2000);
    socket().drop();
    clock.fire(4000);
    socket().drop();
    expect(clock.pending()).toEqual([5000]);
    ws.close();
    expect(clock.pending()).toEqual([]);
  });

  it('keeps the client id the host gives it and repeats it when it connects again (a reload or a drop resumes control)', () => {
    const { ws, sockets, socket, clock, store } = setup();
    expect(socket().url).toBe('ws://127.0.0.1:1/ws?token=t');
    socket().open();
    const id = 'Abcdefghijklmnop_-123456';
    socket().receive({ event: 'control', data: { client: id, label: 'window 1', role: 'controller', controller: 'window 1', controllerPresent: true, others: 0 } });
    expect(store.id).toBe(id);
    // A malformed control event changes nothing.
    socket().receive({ event: 'control', data: { client: 42 } });
    expect(store.id).toBe(id);
    socket().drop();
    clock.fire(500);
    expect(sockets).toHaveLength(2);
    expect(socket().url).toBe(`ws://127.0.0.1:1/ws?token=t&client=${id}`);
    ws.close();
    // A reloaded page (a new client over the same tab's storage) proposes it from the start.
    const again = setup(id);
    expect(again.socket().url).toBe(`ws://127.0.0.1:1/ws?token=t&client=${id}`);
    again.ws.close();
  });

  it('close() settles calls still waiting for the first open', async () => {
    const { ws } = setup();
    const p = ws.api.listProtocols({});
    ws.close();
    await expect(p).resolves.toMatchObject({ ok: false, error: { message: 'the page is closing' } });
  });
});
