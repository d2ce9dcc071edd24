// Fakes of the Electron objects main uses (the binary cannot run here). Each one is an
// EventEmitter with the few methods the shell calls, recording what was done to it; emitting the
// Electron event names drives the code under test exactly as Electron would.
import { EventEmitter } from 'node:events';
import type { BrowserWindowConstructorOptions, MessageBoxOptions } from 'electron';
import type { EstopSource } from '../../../src/app/contract.js';
import type { ControlChange } from '../../../src/app/control.js';
import type { AppLike } from '../../../electron/main/app.js';
import type { InvokeEventLike, IpcMainLike } from '../../../electron/main/ipc.js';
import type { NavigationEvent, SessionLike } from '../../../electron/main/security.js';
import type { PushedEvent, ShellService } from '../../../electron/main/service-port.js';
import type { FrameLike, Log, WindowLike } from '../../../electron/main/window.js';

export const APP_DIR = '/opt/edn';
export const APP_URL = 'file:///opt/edn/out/renderer/index.html';

/** An Electron event: records preventDefault. */
export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export function navigation(url: string, isMainFrame = true): NavigationEvent & FakeEvent & { isMainFrame: boolean } {
  return Object.assign(new FakeEvent(), { url, isMainFrame });
}

export class FakeFrame implements FrameLike {
  constructor(
    public url: string,
    public parent: FakeFrame | null = null,
    public processId = 7,
    public routingId = 1,
  ) {}
}

let nextContentsId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextContentsId++;
  mainFrame = new FakeFrame(APP_URL);
  destroyed = false;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  reloads = 0;
  windowOpenHandler: ((details: { url: string }) => { action: 'deny' }) | undefined;

  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    this.sent.push({ channel, args });
  }
  reload(): void {
    this.reloads += 1;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.windowOpenHandler = handler;
  }
  /** A frame of this page: the main frame by default, a child frame with `parent`. */
  frame(url = APP_URL, parent: FakeFrame | null = null): FakeFrame {
    return parent ? new FakeFrame(url, parent, this.mainFrame.processId, this.mainFrame.routingId + 1) : new FakeFrame(url, null, this.mainFrame.processId, this.mainFrame.routingId);
  }
}

export class FakeWindow extends EventEmitter implements WindowLike {
  readonly webContents = new FakeWebContents();
  destroyed = false;
  shown = 0;
  focused = 0;
  minimized = false;
  restored = 0;
  readonly loaded: string[] = [];
  constructor(
    readonly options: BrowserWindowConstructorOptions,
    /** Order of notable things (shared with the service fake when given). */
    private readonly journal: string[] = [],
  ) {
    super();
  }
  loadFile(filePath: string): Promise<void> {
    this.loaded.push(filePath);
    return Promise.resolve();
  }
  show(): void {
    this.shown += 1;
  }
  /** Like BrowserWindow.close(): emits a preventable 'close'; unless prevented, the window goes. */
  close(): void {
    if (this.destroyed) return;
    const event = new FakeEvent();
    this.emit('close', event);
    if (event.defaultPrevented) return;
    this.journal.push('window closed');
    this.destroyed = true;
    this.webContents.destroyed = true;
    this.emit('closed');
  }
  focus(): void {
    this.focused += 1;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.restored += 1;
    this.minimized = false;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

/** A dialog whose answer the test gives (resolve) after seeing the question. */
export class FakeDialog {
  readonly asked: { window: FakeWindow; options: MessageBoxOptions }[] = [];
  private pending: ((response: number) => void)[] = [];
  showMessageBox(window: FakeWindow, options: MessageBoxOptions): Promise<{ response: number }> {
    this.asked.push({ window, options });
    return new Promise((resolve) => this.pending.push((response) => resolve({ response })));
  }
  /** Questions asked synchronously, and the labels to answer them with, in order (none left: the cancel button). */
  readonly askedSync: MessageBoxOptions[] = [];
  readonly syncAnswers: string[] = [];
  showMessageBoxSync(_window: FakeWindow, options: MessageBoxOptions): number {
    this.askedSync.push(options);
    const label = this.syncAnswers.shift();
    const index = label === undefined ? (options.cancelId ?? 0) : (options.buttons?.indexOf(label) ?? -1);
    if (index < 0) throw new Error(`no "${label ?? ''}" button on the question "${options.message}"`);
    return index;
  }
  /** Clicks the button with this label on the oldest open dialog. */
  answer(label: string): void {
    const asked = this.asked[this.asked.length - this.pending.length];
    const index = asked?.options.buttons?.indexOf(label) ?? -1;
    if (index < 0) throw new Error(`no open dialog with a "${label}" button`);
    this.pending.shift()?.(index);
  }
}

export class FakeSession extends EventEmitter implements SessionLike {
  headersListener: Parameters<SessionLike['webRequest']['onHeadersReceived']>[0] | undefined;
  permissionRequest: Parameters<SessionLike['setPermissionRequestHandler']>[0] | undefined;
  permissionCheck: Parameters<SessionLike['setPermissionCheckHandler']>[0] | undefined;
  devicePermission: Parameters<SessionLike['setDevicePermissionHandler']>[0] | undefined;
  readonly webRequest = {
    onHeadersReceived: (listener: NonNullable<FakeSession['headersListener']>) => {
      this.headersListener = listener;
    },
  };
  setPermissionRequestHandler(handler: NonNullable<FakeSession['permissionRequest']>): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: NonNullable<FakeSession['permissionCheck']>): void {
    this.permissionCheck = handler;
  }
  setDevicePermissionHandler(handler: NonNullable<FakeSession['devicePermission']>): void {
    this.devicePermission = handler;
  }
}

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: InvokeEventLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, ...args) from `sender`/`senderFrame` would resolve to. */
  async invoke(channel: string, from: { sender: unknown; senderFrame: FrameLike | null }, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return await handler(from, ...args);
  }
}

export class FakeApp extends EventEmitter implements AppLike {
  isPackaged = false;
  lock = true;
  readonly calls: string[] = [];
  quits = 0;
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  constructor() {
    super();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }
  requestSingleInstanceLock(): boolean {
    this.calls.push('requestSingleInstanceLock');
    return this.lock;
  }
  enableSandbox(): void {
    this.calls.push('enableSandbox');
  }
  whenReady(): Promise<void> {
    this.calls.push('whenReady');
    return this.ready;
  }
  becomeReady(): void {
    this.calls.push('ready');
    this.markReady();
  }
  getPath(name: 'userData'): string {
    return `/home/clinician/.config/EDN Controller${name === 'userData' ? '' : `/${String(name)}`}`;
  }
  getAppPath(): string {
    return APP_DIR;
  }
  /** Like app.quit(): emits a preventable 'will-quit' (windows are the test's business). */
  quit(): void {
    this.quits += 1;
    this.calls.push('quit');
    const event = new FakeEvent();
    this.emit('will-quit', event);
    if (!event.defaultPrevented) this.calls.push('quit done');
  }
}

/** The service as main sees it: output on/off by hand, e-stops and disposal recorded in order. */
export class FakeService implements ShellService {
  outputOn = false;
  readonly estops: EstopSource[] = [];
  disposed = 0;
  private readonly listeners = new Set<(event: PushedEvent) => void>();
  constructor(readonly journal: string[] = []) {}
  outputMayBeOn(): boolean {
    return this.outputOn;
  }
  readonly controlRecords: ControlChange[] = [];
  emergencyStop(source: EstopSource): Promise<{ ok: true; data: null }> {
    this.estops.push(source);
    this.journal.push(`estop ${source}`);
    this.outputOn = false;
    return Promise.resolve({ ok: true, data: null });
  }
  recordControl(change: ControlChange): { ok: true; data: null } {
    this.controlRecords.push(change);
    return { ok: true, data: null };
  }
  on(listener: (event: PushedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: PushedEvent): void {
    for (const l of this.listeners) l(event);
  }
  listenerCount(): number {
    return this.listeners.size;
  }
  dispose(): Promise<void> {
    this.disposed += 1;
    this.journal.push('service disposed');
    return Promise.resolve();
  }
}

/** A log that collects lines instead of printing them (tests may not print). */
export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const log = ((level, message) => void lines.push(`${level}: ${message}`)) as Log & { lines: string[] };
  log.lines = lines;
  return log;
}

/** Lets every queued promise callback run (the fakes resolve at once). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
