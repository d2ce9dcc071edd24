// The app window: its options, and the shell's two safety rules (renderer lost while output is on
// -> e-stop at once; closing during a session asks and e-stops before the window goes).
import type { BrowserWindowConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { CLOSE_DURING_SESSION, createMainWindow } from '../../../electron/main/window.js';
import { APP_URL, FakeDialog, FakeEvent, FakeService, FakeWindow, memoryLog, settle } from './fakes.js';

const PRELOAD = '/opt/edn/out/preload/preload.cjs';
const INDEX = '/opt/edn/out/renderer/index.html';

function setup(options: { outputOn?: boolean; maxCrashReloads?: number } = {}) {
  const journal: string[] = [];
  const service = new FakeService(journal);
  service.outputOn = options.outputOn ?? false;
  const dialog = new FakeDialog();
  const log = memoryLog();
  const windows: FakeWindow[] = [];
  const main = createMainWindow<FakeWindow>({
    BrowserWindow: class extends FakeWindow {
      constructor(o: BrowserWindowConstructorOptions) {
        super(o, journal);
        windows.push(this);
      }
    },
    dialog,
    service,
    preloadPath: PRELOAD,
    indexPath: INDEX,
    appUrl: APP_URL,
    devTools: false,
    log,
    ...(options.maxCrashReloads === undefined ? {} : { maxCrashReloads: options.maxCrashReloads }),
  });
  return { main, window: main.window, windows, service, dialog, journal, log };
}

describe('the window', () => {
  it('is one window with the hardened webPreferences and the preload', () => {
    const { windows, window } = setup();
    expect(windows).toHaveLength(1);
    // Every hardening flag explicit, never a default.
    expect(window.options.webPreferences).toEqual({
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      disableBlinkFeatures: 'Auxclick',
      devTools: false,
    });
    expect(window.options.show).toBe(false);
    expect(window.options.title).toBe('EDN Controller');
  });

  it('loads the app page and shows itself when ready', () => {
    const { window } = setup();
    expect(window.loaded).toEqual([INDEX]);
    expect(window.shown).toBe(0);
    window.emit('ready-to-show');
    expect(window.shown).toBe(1);
  });

  it('has the navigation policy on its webContents', () => {
    const { window } = setup();
    expect(window.webContents.windowOpenHandler?.({ url: 'https://example.org' })).toEqual({ action: 'deny' });
    expect(window.webContents.listenerCount('will-navigate')).toBe(1);
  });

  it('focus restores a minimised window', () => {
    const { main, window } = setup();
    window.minimized = true;
    main.focus();
    expect(window.restored).toBe(1);
    expect(window.focused).toBe(1);
  });
});

describe('renderer lost while output may be on', () => {
  it('a crash e-stops exactly once, at once (before anything else happens)', () => {
    const { window, service } = setup({ outputOn: true });
    window.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
    // Synchronously: the e-stop was called within the event handler, not after a round trip.
    expect(service.estops).toEqual(['renderer-crash']);
  });

  it.each(['crashed', 'oom', 'killed', 'abnormal-exit', 'launch-failed'])('%s: e-stop, then the page is reloaded to show the latched state', (reason) => {
    const { window, service } = setup({ outputOn: true });
    window.webContents.emit('render-process-gone', {}, { reason, exitCode: 1 });
    expect(service.estops).toEqual(['renderer-crash']);
    expect(window.webContents.reloads).toBe(1);
  });

  it('a hang (unresponsive) e-stops exactly once, naming the cause', () => {
    const { window, service } = setup({ outputOn: true });
    window.webContents.emit('unresponsive');
    expect(service.estops).toEqual(['ui-unresponsive']);
  });

  it('with output off, a crash or a hang does not e-stop', () => {
    const { window, service } = setup({ outputOn: false });
    window.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
    window.webContents.emit('unresponsive');
    expect(service.estops).toEqual([]);
  });

  it('stops reloading a renderer that keeps crashing', () => {
    const { window, log } = setup({ maxCrashReloads: 2 });
    for (let i = 0; i < 4; i++) window.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
    expect(window.webContents.reloads).toBe(2);
    expect(log.lines.some((l) => l.includes('not reloading again'))).toBe(true);
  });

  it('an e-stop that rejects is logged, never thrown into Electron', async () => {
    const { window, service, log } = setup({ outputOn: true });
    service.emergencyStop = () => Promise.reject(new Error('port gone'));
    expect(() => window.webContents.emit('unresponsive')).not.toThrow();
    await settle();
    expect(log.lines).toContain('error: emergency stop (ui-unresponsive) failed: port gone');
  });
});

describe('closing the window', () => {
  it('with no output on closes without asking', () => {
    const { window, dialog, service, main } = setup({ outputOn: false });
    window.close();
    expect(dialog.asked).toEqual([]);
    expect(window.isDestroyed()).toBe(true);
    expect(service.estops).toEqual([]);
    expect(main.isClosed()).toBe(true);
  });

  it('during a session asks, and "Stop and quit" e-stops before the window goes', async () => {
    const { window, dialog, service, journal } = setup({ outputOn: true });
    window.close();
    expect(window.isDestroyed()).toBe(false);
    expect(dialog.asked).toHaveLength(1);
    expect(dialog.asked[0]!.options).toEqual(CLOSE_DURING_SESSION);
    expect(dialog.asked[0]!.window).toBe(window);
    expect(dialog.asked[0]!.options.buttons).toEqual(['Stop and quit', 'Cancel']);
    // Enter and Escape both keep the session: the default and the cancel button are Cancel.
    expect(dialog.asked[0]!.options.defaultId).toBe(1);
    expect(dialog.asked[0]!.options.cancelId).toBe(1);
    dialog.answer('Stop and quit');
    await settle();
    expect(service.estops).toEqual(['window-close']);
    expect(journal).toEqual(['estop window-close', 'window closed']);
    expect(window.isDestroyed()).toBe(true);
  });

  it('"Stop and quit" closes even if the e-stop fails (the device watchdog is the backstop)', async () => {
    const { window, dialog, service, log } = setup({ outputOn: true });
    service.emergencyStop = () => Promise.reject(new Error('port gone'));
    window.close();
    dialog.answer('Stop and quit');
    await settle();
    expect(window.isDestroyed()).toBe(true);
    expect(log.lines).toContain('error: emergency stop (window-close) failed: port gone');
  });

  it('Cancel keeps the window and the output, and the next close asks again', async () => {
    const { window, dialog, service } = setup({ outputOn: true });
    window.close();
    dialog.answer('Cancel');
    await settle();
    expect(window.isDestroyed()).toBe(false);
    expect(service.estops).toEqual([]);
    window.close();
    expect(dialog.asked).toHaveLength(2);
  });

  it('asks once however often close is pressed while the question is open', () => {
    const { window, dialog } = setup({ outputOn: true });
    window.close();
    window.close();
    window.close();
    expect(dialog.asked).toHaveLength(1);
  });

  it('closeWithoutAsking (a signal) closes at once', () => {
    const { window, dialog, main } = setup({ outputOn: true });
    main.closeWithoutAsking();
    expect(dialog.asked).toEqual([]);
    expect(window.isDestroyed()).toBe(true);
  });

  it("a close the page's beforeunload cancelled (no output on) never lets a later close skip the question", () => {
    const { window, dialog, service, main } = setup({ outputOn: false });
    const pageKeepsOpen = (event: { preventDefault(): void }) => event.preventDefault();
    window.on('close', pageKeepsOpen);
    window.close();
    window.off('close', pageKeepsOpen);
    expect(window.isDestroyed()).toBe(false);
    expect(main.isClosed()).toBe(false); // IPC keeps answering the page (its e-stop button)
    service.outputOn = true;
    window.close();
    expect(dialog.asked).toHaveLength(1);
    expect(window.isDestroyed()).toBe(false);
  });

  it("after Stop and quit, the page's beforeunload cannot keep the window open; otherwise it may", async () => {
    const { window, dialog } = setup({ outputOn: true });
    const before = new FakeEvent();
    window.webContents.emit('will-prevent-unload', before);
    expect(before.defaultPrevented).toBe(false);
    window.close();
    dialog.answer('Stop and quit');
    await settle();
    const during = new FakeEvent();
    window.webContents.emit('will-prevent-unload', during);
    expect(during.defaultPrevented).toBe(true);
  });

  it('a page that keeps itself open (unsaved protocol edits) is asked about, not ignored: Stay keeps it, Leave lets it go', () => {
    const { window, dialog } = setup({ outputOn: false });
    const stay = new FakeEvent();
    dialog.syncAnswers.push('Stay');
    window.webContents.emit('will-prevent-unload', stay);
    expect(stay.defaultPrevented).toBe(false);
    const leave = new FakeEvent();
    dialog.syncAnswers.push('Leave');
    window.webContents.emit('will-prevent-unload', leave);
    expect(leave.defaultPrevented).toBe(true);
    expect(dialog.askedSync.map((o) => [o.message, o.buttons])).toEqual([
      ['A protocol has changes that are not saved.', ['Stay', 'Leave']],
      ['A protocol has changes that are not saved.', ['Stay', 'Leave']],
    ]);
    expect(dialog.asked).toHaveLength(0);
  });

  it('a renderer exit while closing is not reloaded', () => {
    const { window } = setup();
    window.close();
    window.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 });
    expect(window.webContents.reloads).toBe(0);
  });
});
