// startApp: single instance, sandbox for all, the session policy before any window, the service on
// userData, IPC bound, and a quit that never leaves output on.
import { EventEmitter } from 'node:events';
import type { BrowserWindowConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { IPC_CALL_CHANNEL } from '../../../src/app/contract.js';
import { startApp } from '../../../electron/main/app.js';
import type { Dispatch } from '../../../electron/main/ipc.js';
import { APP_URL, FakeApp, FakeDialog, FakeEvent, FakeIpcMain, FakeService, FakeSession, FakeWebContents, FakeWindow, memoryLog, navigation, settle } from './fakes.js';

function setup(options: { lock?: boolean } = {}) {
  const journal: string[] = [];
  const app = new FakeApp();
  app.lock = options.lock ?? true;
  const session = new FakeSession();
  const ipcMain = new FakeIpcMain();
  const dialog = new FakeDialog();
  const service = new FakeService(journal);
  const windows: FakeWindow[] = [];
  const dataDirs: string[] = [];
  const signals: ((signal: string) => void)[] = [];
  const restricted: string[] = [];
  const log = memoryLog();
  const dispatch: Dispatch = (message) => Promise.resolve({ result: { ok: true, data: message } });
  const started = startApp<FakeWindow, FakeService>({
    app,
    session: () => {
      app.calls.push('session');
      return session;
    },
    ipcMain,
    dialog,
    BrowserWindow: class extends FakeWindow {
      constructor(o: BrowserWindowConstructorOptions) {
        app.calls.push('createWindow');
        super(o, journal);
        windows.push(this);
      }
    },
    createService: (dataDir) => {
      dataDirs.push(dataDir);
      return service;
    },
    createDispatch: () => dispatch,
    restrictFile: (file) => restricted.push(file),
    onSignal: (handler) => signals.push(handler),
    log,
  });
  return { app, session, ipcMain, dialog, service, windows, dataDirs, signals, journal, log, started, restricted };
}

async function running(options: { lock?: boolean } = {}) {
  const s = setup(options);
  s.app.becomeReady();
  const r = await s.started;
  return { ...s, running: r! };
}

describe('startApp', () => {
  it('quits when another instance holds the lock, without a window or a service', async () => {
    const { app, started, windows, dataDirs } = setup({ lock: false });
    await expect(started).resolves.toBeUndefined();
    expect(app.quits).toBe(1);
    expect(windows).toEqual([]);
    expect(dataDirs).toEqual([]);
    expect(app.calls).not.toContain('enableSandbox');
  });

  it('sandboxes every renderer before ready, and applies the session policy before the window exists', async () => {
    const { app } = await running();
    const order = app.calls.filter((c) => ['requestSingleInstanceLock', 'enableSandbox', 'ready', 'session', 'createWindow'].includes(c));
    expect(order).toEqual(['requestSingleInstanceLock', 'enableSandbox', 'ready', 'session', 'createWindow']);
  });

  it('sets the session policy (CSP, permissions, serial picker)', async () => {
    const { session } = await running();
    expect(session.headersListener).toBeDefined();
    expect(session.permissionCheck!({}, 'serial')).toBe(false);
    expect(session.listenerCount('select-serial-port')).toBe(1);
  });

  it('makes every file the page saves (an exported report) private', async () => {
    const { session, restricted } = await running();
    const item = Object.assign(new EventEmitter(), { getSavePath: () => '/home/clinician/report.html' });
    session.emit('will-download', {}, item, {});
    item.emit('done', {}, 'completed');
    expect(restricted).toEqual(['/home/clinician/report.html']);
  });

  it('creates the service on userData and loads the bundled page with the bundled preload', async () => {
    const { dataDirs, windows, running: r } = await running();
    expect(dataDirs).toEqual(['/home/clinician/.config/EDN Controller']);
    expect(windows).toHaveLength(1);
    expect(windows[0]!.options.webPreferences?.preload).toBe('/opt/edn/out/preload/preload.cjs');
    expect(windows[0]!.loaded).toEqual(['/opt/edn/out/renderer/index.html']);
    expect(r.appUrl).toBe(APP_URL);
  });

  it('offers developer tools only when not packaged', async () => {
    const dev = await running();
    expect(dev.windows[0]!.options.webPreferences?.devTools).toBe(true);
    const s = setup();
    s.app.isPackaged = true;
    s.app.becomeReady();
    await s.started;
    expect(s.windows[0]!.options.webPreferences?.devTools).toBe(false);
  });

  it('binds IPC to the window: our main frame is answered, anything else refused', async () => {
    const { ipcMain, windows, running: r } = await running();
    const contents = windows[0]!.webContents;
    await expect(ipcMain.invoke(IPC_CALL_CHANNEL, { sender: contents, senderFrame: contents.mainFrame }, { id: 0, call: 'pause', input: {} })).resolves.toEqual({
      ok: true,
      data: { id: 0, call: 'pause', input: {} },
    });
    const other = new FakeWebContents();
    await expect(ipcMain.invoke(IPC_CALL_CHANNEL, { sender: other, senderFrame: other.mainFrame }, { id: 1, call: 'pause', input: {} })).resolves.toMatchObject({ ok: false });
    expect(r.ipc.refused()).toBe(1);
  });

  it('hardens every webContents created anywhere (web-contents-created)', async () => {
    const { app } = await running();
    const stray = new FakeWebContents();
    app.emit('web-contents-created', new FakeEvent(), stray);
    const event = navigation('https://example.org/');
    stray.emit('will-navigate', event);
    expect(event.defaultPrevented).toBe(true);
    expect(stray.windowOpenHandler?.({ url: 'https://example.org/' })).toEqual({ action: 'deny' });
  });

  it('a second instance brings the window to the front', async () => {
    const { app, windows } = await running();
    windows[0]!.minimized = true;
    app.emit('second-instance', new FakeEvent(), [], '/');
    expect(windows[0]!.restored).toBe(1);
    expect(windows[0]!.focused).toBe(1);
  });
});

describe('quitting', () => {
  it('closing the last window quits; will-quit disposes the service and unbinds IPC, then quits', async () => {
    const { app, windows, service, ipcMain, journal } = await running();
    windows[0]!.close();
    app.emit('window-all-closed');
    await settle();
    expect(service.disposed).toBe(1);
    expect(ipcMain.handlers.size).toBe(0);
    expect(service.listenerCount()).toBe(0);
    expect(app.calls.filter((c) => c.startsWith('quit'))).toEqual(['quit', 'quit', 'quit done']);
    expect(journal).toEqual(['window closed', 'service disposed']);
  });

  it('quitting with output on (after the close guard was bypassed) e-stops before disposing', async () => {
    const { app, service, journal } = await running();
    service.outputOn = true;
    app.quit();
    await settle();
    expect(journal).toEqual(['estop shutdown', 'service disposed']);
  });

  it('closing during a session: the dialog, the e-stop, the window, then the quit', async () => {
    const { app, windows, service, dialog, journal } = await running();
    service.outputOn = true;
    windows[0]!.on('closed', () => app.emit('window-all-closed'));
    windows[0]!.close();
    expect(dialog.asked).toHaveLength(1);
    dialog.answer('Stop and quit');
    await settle();
    expect(journal).toEqual(['estop window-close', 'window closed', 'service disposed']);
  });

  it('SIGINT/SIGTERM: e-stop when output may be on, then close without asking and quit', async () => {
    const { signals, service, windows, dialog, journal, app } = await running();
    service.outputOn = true;
    expect(signals).toHaveLength(1);
    signals[0]!('SIGTERM');
    await settle();
    expect(service.estops).toEqual(['signal']);
    expect(dialog.asked).toEqual([]);
    expect(windows[0]!.isDestroyed()).toBe(true);
    expect(journal.slice(0, 2)).toEqual(['estop signal', 'window closed']);
    expect(app.quits).toBeGreaterThanOrEqual(1);
  });

  it('a signal with output off does not e-stop (nothing to stop; the device stays unlatched)', async () => {
    const { signals, service } = await running();
    signals[0]!('SIGINT');
    await settle();
    expect(service.estops).toEqual([]);
  });
});
