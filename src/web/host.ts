/**
 * The browser host: serves the renderer on 127.0.0.1 and binds the contract over a WebSocket, so
 * the same UI runs in any browser with no Electron (hardware-free training; how the UI is tested
 * here). The message format is in README.md beside this file.
 *
 * Who may talk to it
 * - It listens on 127.0.0.1 only; any other host is refused before anything is bound.
 * - A random token (24 bytes, base64url) must be in the page URL (`/?token=...`) and in the
 *   WebSocket URL (`/ws?token=...`); the comparison is constant-time.
 * - Every request's Host header must be exactly `127.0.0.1:<port>` (defeats DNS rebinding); a
 *   WebSocket's Origin header must be exactly `http://127.0.0.1:<port>` (defeats other pages and
 *   sites); the peer address must be loopback.
 * - Anything else gets HTTP 403 with the reason in words (a WebSocket is never accepted), and is
 *   counted in `refusals`.
 *
 * Every response carries a strict Content-Security-Policy (no inline script, connect only to this
 * host), nosniff, no-referrer (the token is in the URL), no framing and no caching.
 *
 * One controlling UI, and a UI that freezes or vanishes with output on (src/app/control.ts): every
 * message of a client goes through SessionControl, which refuses session changes from a client
 * that does not control the session (NOT_CONTROLLER; Emergency stop is open to all), answers
 * `heartbeat` and `takeControl`, pings the controlling page, and e-stops a session whose
 * controlling page gave no sign of life for UI_LIVENESS_MS (source `ui-unresponsive`) or went away
 * for GRACE_MS (source `connection-lost`; a page reload reconnects well within it and resumes
 * control with its client id, `/ws?token=...&client=...`). A clinician whose screen froze or went
 * blank expects the stimulation to stop, not to run on unseen.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import { type WebSocket, WebSocketServer } from 'ws';
import type { EstopSource, Result, Snapshot } from '../app/contract.js';
import { type ControlChange, type ControlEvent, SessionControl } from '../app/control.js';
import { type Dispatcher, createDispatcher } from '../app/dispatch.js';
import type { ContractHandlers, ServiceEvent } from '../app/service.js';
import { GRACE_MS } from '../app/ui-timing.js';
import { monotonicScheduler } from '../device/time.js';

/** How long a vanished UI has to come back before a session with output on is e-stopped, ms (src/app/ui-timing.ts). */
export { GRACE_MS };
/** The only address the host binds. */
export const LOOPBACK_HOST = '127.0.0.1';
/** Where the WebSocket is. */
export const WS_PATH = '/ws';
/** Largest message accepted from a client, bytes (a protocol file is a few KB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** Telemetry is skipped for a client with this much unsent data (a slow or stalled tab). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** What the host needs of the service (ControllerService has it all). */
export interface HostedService extends ContractHandlers {
  readonly events$: Observable<ServiceEvent>;
  readonly snapshot: Snapshot;
  outputMayBeOn(): boolean;
  emergencyStop(source: EstopSource): Promise<Result<null>>;
  /** Journal a take-over in the open session's record (across the worker boundary: a promise). */
  recordControl(change: ControlChange): Result<null> | Promise<Result<null>>;
  on(listener: (event: ServiceEvent) => void): () => void;
}

/** A page and its assets, by URL path ("/main.js"). */
export interface RendererPage {
  readonly html: string;
  readonly assets: ReadonlyMap<string, { readonly type: string; readonly body: string | Uint8Array }>;
}

/** Builds the page; called for every page load (so a reload picks up a changed renderer). */
export type PageSource = () => Promise<RendererPage>;

export type RefusalReason = 'not-loopback' | 'bad-host' | 'bad-method' | 'no-token' | 'bad-token' | 'bad-origin' | 'not-found';

export interface WebHostOptions {
  readonly service: HostedService;
  readonly page: PageSource;
  /** Only 127.0.0.1 is accepted. Default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** The access token. Default: newToken(). */
  readonly token?: string;
  /** Runs the grace timer, the pings and the liveness deadline. Default: the monotonic real-time scheduler. */
  readonly scheduler?: SchedulerLike;
  /** Grace period before a vanished UI's session is e-stopped, ms. Default GRACE_MS. */
  readonly graceMs?: number;
  /** Ping period of the controlling page, ms. Default UI_PING_MS. */
  readonly pingMs?: number;
  /** Liveness window of the controlling page, ms. Default UI_LIVENESS_MS. */
  readonly livenessMs?: number;
  /** Check every result against the contract (tests, --debug). */
  readonly validateOutput?: boolean;
  /** Told about what is worth a line in a log: page build failures, invalid results, e-stops for a lost or frozen UI, take-overs. */
  readonly log?: (message: string) => void;
}

export interface WebHost {
  /** The URL to open, with the token. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`: the only Origin accepted. */
  readonly origin: string;
  readonly port: number;
  /** The WebSocket URL with the token. */
  readonly wsUrl: string;
  /** Open WebSocket clients. */
  readonly clients: number;
  /** Refused requests and connections by reason. */
  readonly refusals: Readonly<Record<RefusalReason, number>>;
  /** Sessions e-stopped because the UI vanished with output on. */
  readonly graceStops: number;
  /** Sessions e-stopped because the controlling page gave no sign of life with output on. */
  readonly unresponsiveStops: number;
  /** Pings sent to controlling pages. */
  readonly pings: number;
  /** Close every client and the server. The session is left to the caller (e-stop it first). */
  close(): Promise<void>;
}

/** An IPv4 or IPv6 loopback peer address (127.0.0.0/8, ::1, or v4-mapped 127.x). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** A fresh access token: 24 random bytes, base64url (32 characters). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time token comparison. */
export function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The response headers of every page and asset. */
export function securityHeaders(port: number): Record<string, string> {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ws://${LOOPBACK_HOST}:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'serial=(), usb=(), hid=(), camera=(), microphone=(), geolocation=()',
    'Cache-Control': 'no-store',
  };
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const host = options.host ?? LOOPBACK_HOST;
  if (host !== LOOPBACK_HOST) throw new Error(`the web host binds ${LOOPBACK_HOST} only, not '${host}': it must not be reachable from other machines`);
  const token = options.token ?? newToken();
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(token)) throw new Error('the token must be 16-256 base64url characters');
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return new Host(server, port, { ...options, token });
}

class Host implements WebHost {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly wsUrl: string;
  readonly refusals: Record<RefusalReason, number> = { 'not-loopback': 0, 'bad-host': 0, 'bad-method': 0, 'no-token': 0, 'bad-token': 0, 'bad-origin': 0, 'not-found': 0 };

  readonly #server: http.Server;
  readonly #wss: WebSocketServer;
  readonly #service: HostedService;
  readonly #page: PageSource;
  readonly #token: string;
  readonly #dispatch: Dispatcher;
  readonly #control: SessionControl;
  readonly #log: (message: string) => void;
  readonly #headers: Record<string, string>;
  /** Open sockets by client id (SessionControl's). */
  readonly #clients = new Map<string, WebSocket>();
  readonly #events: Subscription;
  #assets: RendererPage['assets'] = new Map();
  #building: Promise<RendererPage> | undefined;
  #closed = false;

  constructor(server: http.Server, port: number, options: WebHostOptions & { readonly token: string }) {
    this.#server = server;
    this.port = port;
    this.origin = `http://${LOOPBACK_HOST}:${port}`;
    this.#token = options.token;
    this.url = `${this.origin}/?token=${options.token}`;
    this.wsUrl = `ws://${LOOPBACK_HOST}:${port}${WS_PATH}?token=${options.token}`;
    this.#service = options.service;
    this.#page = options.page;
    this.#log = options.log ?? (() => undefined);
    this.#headers = securityHeaders(port);
    this.#dispatch = createDispatcher(options.service, {
      validateOutput: options.validateOutput ?? false,
      onInvalidOutput: (call, problem) => this.#log(`${call} returned a result outside the contract: ${problem}`),
    });
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
    server.on('request', (req, res) => void this.#onRequest(req, res));
    server.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
    // The service's events first, so a UI is sent a snapshot before the control that follows from it.
    this.#events = options.service.events$.subscribe((e) => this.#broadcast(e));
    this.#control = new SessionControl({
      port: options.service,
      scheduler: options.scheduler ?? monotonicScheduler,
      initialState: options.service.snapshot.state,
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.pingMs === undefined ? {} : { pingMs: options.pingMs }),
      ...(options.livenessMs === undefined ? {} : { livenessMs: options.livenessMs }),
      log: this.#log,
    });
  }

  get clients(): number {
    return this.#clients.size;
  }

  get graceStops(): number {
    return this.#control.stats.stops['connection-lost'];
  }

  get unresponsiveStops(): number {
    return this.#control.stats.stops['ui-unresponsive'];
  }

  get pings(): number {
    return this.#control.stats.pings;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#control.dispose();
    this.#events.unsubscribe();
    for (const ws of this.#clients.values()) ws.close(1001, 'the host is shutting down');
    for (const ws of this.#wss.clients) ws.terminate();
    this.#clients.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  /** Why a request (page, asset or upgrade) is refused before its path is looked at, if it is. */
  #gate(req: http.IncomingMessage): { reason: RefusalReason; message: string } | undefined {
    if (!isLoopback(req.socket.remoteAddress)) return { reason: 'not-loopback', message: 'only this computer may connect' };
    if (req.headers.host !== `${LOOPBACK_HOST}:${this.port}`) return { reason: 'bad-host', message: `open ${this.origin}/ as printed (Host ${JSON.stringify(req.headers.host ?? null)})` };
    return undefined;
  }

  async #onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const refused = this.#gate(req);
      if (refused) return this.#refuse(res, refused.reason, refused.message);
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.#refuse(res, 'bad-method', `${req.method ?? '?'} is not allowed`);
      const url = new URL(req.url ?? '/', this.origin);
      if (url.pathname === '/' || url.pathname === '/index.html') {
        const token = url.searchParams.get('token');
        if (token === null) return this.#refuse(res, 'no-token', 'the address needs its token: open the URL exactly as the host printed it');
        if (!tokenMatches(this.#token, token)) return this.#refuse(res, 'bad-token', 'wrong token: open the URL exactly as the host printed it');
        let page: RendererPage;
        try {
          page = await this.#buildPage();
        } catch (e) {
          const message = `the user interface could not be built: ${e instanceof Error ? e.message : String(e)}`;
          this.#log(message);
          return this.#send(res, 500, 'text/plain; charset=utf-8', message, req.method === 'HEAD');
        }
        return this.#send(res, 200, 'text/html; charset=utf-8', page.html, req.method === 'HEAD');
      }
      const asset = this.#assets.get(url.pathname);
      if (!asset) return this.#refuse(res, 'not-found', 'not found', 404);
      return this.#send(res, 200, asset.type, asset.body, req.method === 'HEAD');
    } catch (e) {
      if (!res.headersSent) this.#send(res, 500, 'text/plain; charset=utf-8', `internal error: ${e instanceof Error ? e.message : String(e)}`, false);
      else res.destroy();
    }
  }

  /** One build at a time; the assets of the newest page are the ones served. */
  async #buildPage(): Promise<RendererPage> {
    this.#building ??= this.#page().finally(() => {
      this.#building = undefined;
    });
    const page = await this.#building;
    this.#assets = page.assets;
    return page;
  }

  #refuse(res: http.ServerResponse, reason: RefusalReason, message: string, status = 403): void {
    this.refusals[reason] += 1;
    this.#send(res, status, 'text/plain; charset=utf-8', `${status === 404 ? 'Not found' : 'Forbidden'}: ${message}\n`, false);
  }

  #send(res: http.ServerResponse, status: number, type: string, body: string | Uint8Array, head: boolean): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { ...this.#headers, 'Content-Type': type, 'Content-Length': String(bytes.byteLength) });
    res.end(head ? undefined : bytes);
  }

  // ---- WebSocket ----------------------------------------------------------------------------------

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refuse = (reason: RefusalReason, message: string, status = 403): void => {
      this.refusals[reason] += 1;
      const body = `${status === 404 ? 'Not found' : 'Forbidden'}: ${message}\n`;
      socket.end(
        `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Forbidden'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    if (this.#closed) return refuse('not-found', 'the host is shutting down', 404);
    const gated = this.#gate(req);
    if (gated) return refuse(gated.reason, gated.message);
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname !== WS_PATH) return refuse('not-found', 'no WebSocket here', 404);
    if (req.headers.origin !== this.origin) return refuse('bad-origin', `Origin ${JSON.stringify(req.headers.origin ?? null)} is not ${this.origin}`);
    const token = url.searchParams.get('token');
    if (token === null) return refuse('no-token', 'the WebSocket URL needs the token');
    if (!tokenMatches(this.#token, token)) return refuse('bad-token', 'wrong token');
    const proposed = url.searchParams.get('client') ?? undefined;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, proposed));
  }

  #attach(ws: WebSocket, proposed: string | undefined): void {
    if (this.#closed) {
      ws.close(1001, 'the host is shutting down');
      return;
    }
    // A new UI starts from the current state, then learns its id and who controls the session.
    this.#send1(ws, { event: 'snapshot', data: this.#service.snapshot });
    const client = this.#control.join({ proposed, send: (event: ControlEvent) => this.#send1(ws, event) });
    this.#clients.set(client, ws);
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      if (this.#clients.get(client) !== ws) return;
      this.#clients.delete(client);
      this.#control.leave(client);
    });
    ws.on('message', (data, isBinary) => void this.#onMessage(ws, client, data, isBinary));
  }

  async #onMessage(ws: WebSocket, client: string, data: unknown, isBinary: boolean): Promise<void> {
    let message: unknown;
    try {
      if (isBinary) throw new Error('binary frames are not accepted: send JSON text');
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data as Buffer[]).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      message = JSON.parse(text);
    } catch (e) {
      this.#send1(ws, { id: null, result: { ok: false, error: { code: 'BAD_INPUT', message: `not a JSON call: ${e instanceof Error ? e.message : String(e)}` } } });
      return;
    }
    const reply = await this.#control.handle(client, message, this.#dispatch);
    this.#send1(ws, reply);
  }

  #send1(ws: WebSocket, message: unknown): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(message));
  }

  #broadcast(e: ServiceEvent): void {
    if (this.#clients.size === 0) return;
    const text = JSON.stringify(e);
    for (const ws of this.#clients.values()) {
      if (e.event === 'telemetry' && ws.bufferedAmount > MAX_BUFFERED_BYTES) continue;
      if (ws.readyState === ws.OPEN) ws.send(text);
    }
  }
}
