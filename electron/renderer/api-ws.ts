/**
 * The contract over a WebSocket, for the browser host (`edn web`): the same EdnApi the Electron
 * preload exposes, built with the contract's own `makeApi`.
 *
 * Wire format (src/app/contract.ts): the client sends `{id, call, input}`; the host answers
 * `{id, result}` and pushes `{event, data}`. The page's URL carries the session token
 * (`?token=...`), which the socket URL repeats; the host also checks the Origin.
 *
 * Calls made before the socket first opens wait for it (the page's first requests). After that, a
 * call made while the socket is down, or pending when it drops, resolves to an error result at once
 * (never hangs, and is never sent late: a titration must not arrive after the moment it was meant
 * for). The socket reconnects on its own.
 *
 * The host names this page a client id (in its `control` event); the page keeps it for this tab
 * (sessionStorage) and repeats it when it connects again (`&client=...`), so a reload, or a
 * dropped connection, resumes control of the session instead of leaving the page an observer.
 */
import { type CallName, ControlSchema, type EdnApi, type EventName, WireEventSchema, WireReplySchema, makeApi } from '../../src/app/contract.js';

/** The few members of the browser's WebSocket this client uses (a test passes a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface WsApiOptions {
  /** Opens a socket (default: the browser's WebSocket). */
  readonly open?: (url: string) => SocketLike;
  /** How long a call may wait for its answer, ms (default 15 s). */
  readonly callTimeoutMs?: number;
  /** Delay before reconnecting after a drop, ms (default 500 ms, doubling up to 5 s). */
  readonly reconnectMs?: number;
  readonly timers?: { set: (fn: () => void, ms: number) => unknown; clear: (h: unknown) => void };
  /** Where this tab keeps its client id (default: sessionStorage, when the page may use it). */
  readonly clientId?: { get(): string | undefined; set(id: string): void };
}

const CLIENT_KEY = 'edn.client';

/** This tab's client id in sessionStorage (per tab, kept across reloads); nothing when storage is unavailable. */
function sessionClientId(): { get(): string | undefined; set(id: string): void } {
  return {
    get: () => {
      try {
        return globalThis.sessionStorage.getItem(CLIENT_KEY) ?? undefined;
      } catch {
        return undefined;
      }
    },
    set: (id) => {
      try {
        globalThis.sessionStorage.setItem(CLIENT_KEY, id);
      } catch {
        // Without storage a reload starts as a new window (it may take control explicitly).
      }
    },
  };
}

export interface WsApi {
  readonly api: EdnApi;
  /** Connection changes (the UI shows a banner while not open). */
  onConnection(listener: (state: ConnectionState, detail?: string) => void): () => void;
  readonly state: ConnectionState;
  close(): void;
}

const OPEN = 1;

/**
 * The socket URL for a page served by the host: same host and port, path `/ws`, the page's
 * token repeated. Undefined when the page has no token (not served by `edn web`).
 */
export function socketUrl(location: { protocol: string; host: string; search: string; hash: string }): string | undefined {
  const params = new URLSearchParams(location.search);
  const token = params.get('token') ?? new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  if (!token) return undefined;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`;
}

export function connectWebSocket(url: string, options: WsApiOptions = {}): WsApi {
  const open = options.open ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
  const callTimeoutMs = options.callTimeoutMs ?? 15_000;
  const baseDelay = options.reconnectMs ?? 500;
  const timers = options.timers ?? { set: (fn: () => void, ms: number) => setTimeout(fn, ms), clear: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>) };
  const clientId = options.clientId ?? sessionClientId();

  const pending = new Map<number, { resolve: (r: unknown) => void; timer: unknown }>();
  const eventListeners = new Set<(event: EventName, data: unknown) => void>();
  const connectionListeners = new Set<(state: ConnectionState, detail?: string) => void>();
  let nextId = 1;
  let socket: SocketLike | undefined;
  let state: ConnectionState = 'connecting';
  let closedByUs = false;
  let delay = baseDelay;
  let reconnectTimer: unknown;
  let everOpened = false;
  /** Calls waiting for the first open. */
  const waiting: (() => void)[] = [];

  const fail = (message: string) => ({ ok: false, error: { code: 'INTERNAL', message } });

  const setState = (next: ConnectionState, detail?: string) => {
    state = next;
    for (const l of connectionListeners) l(next, detail);
  };

  const failPending = (message: string) => {
    for (const [id, p] of pending) {
      timers.clear(p.timer);
      pending.delete(id);
      p.resolve(fail(message));
    }
  };

  const onMessage = (raw: unknown) => {
    if (typeof raw !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    const reply = WireReplySchema.safeParse(msg);
    if (reply.success) {
      if (reply.data.id === null) return;
      const p = pending.get(reply.data.id);
      if (!p) return;
      pending.delete(reply.data.id);
      timers.clear(p.timer);
      p.resolve(reply.data.result);
      return;
    }
    const event = WireEventSchema.safeParse(msg);
    if (!event.success) return;
    if (event.data.event === 'control') {
      const control = ControlSchema.safeParse(event.data.data);
      if (control.success) clientId.set(control.data.client);
    }
    for (const l of eventListeners) l(event.data.event, event.data.data);
  };

  const connect = () => {
    setState('connecting');
    let s: SocketLike;
    const id = clientId.get();
    try {
      s = open(id === undefined ? url : `${url}${url.includes('?') ? '&' : '?'}client=${encodeURIComponent(id)}`);
    } catch (e) {
      scheduleReconnect(e instanceof Error ? e.message : String(e));
      return;
    }
    socket = s;
    s.onopen = () => {
      delay = baseDelay;
      everOpened = true;
      setState('open');
      for (const send of waiting.splice(0)) send();
    };
    s.onmessage = (ev) => onMessage(ev.data);
    s.onerror = () => {
      /* a close follows */
    };
    s.onclose = (ev) => {
      if (socket !== s) return;
      socket = undefined;
      failPending('the connection to the controller was lost before it answered; check the session state');
      if (closedByUs) {
        setState('closed');
        return;
      }
      scheduleReconnect(ev.reason || `connection closed (code ${ev.code})`);
    };
  };

  const scheduleReconnect = (detail: string) => {
    setState('closed', detail);
    reconnectTimer = timers.set(() => {
      reconnectTimer = undefined;
      if (!closedByUs) connect();
    }, delay);
    delay = Math.min(delay * 2, 5000);
  };

  const invoke = (call: CallName, input: unknown): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      let settled = false;
      const settle = (result: unknown) => {
        if (settled) return;
        settled = true;
        timers.clear(timer);
        pending.delete(id);
        resolve(result);
      };
      const timer = timers.set(() => settle(fail(`the controller did not answer "${call}" within ${Math.round(callTimeoutMs / 1000)} s`)), callTimeoutMs);
      const send = () => {
        if (settled) return;
        if (closedByUs) return settle(fail('the page is closing'));
        if (!socket || socket.readyState !== OPEN) return settle(fail('the controller is not reachable (the connection is down); it reconnects on its own'));
        pending.set(id, { resolve: settle, timer });
        socket.send(JSON.stringify({ id, call, input }));
      };
      if (!everOpened && !closedByUs) waiting.push(send);
      else send();
    });

  const subscribe = (listener: (event: EventName, data: unknown) => void) => {
    eventListeners.add(listener);
    return () => {
      eventListeners.delete(listener);
    };
  };

  connect();

  return {
    api: makeApi(invoke, subscribe),
    get state() {
      return state;
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      return () => {
        connectionListeners.delete(listener);
      };
    },
    close() {
      closedByUs = true;
      if (reconnectTimer !== undefined) timers.clear(reconnectTimer);
      for (const send of waiting.splice(0)) send();
      failPending('the page is closing');
      socket?.close(1000, 'closing');
    },
  };
}
