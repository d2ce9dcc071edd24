/**
 * The one app window: hardened webPreferences, the navigation policy, and the two safety rules
 * that belong to the shell:
 * - the renderer crashing or hanging while output may be on stops output at once (the clinician
 *   has lost the e-stop button);
 * - closing the window while output may be on asks first, and stops output before closing.
 *
 * Every Electron object is injected, so this is unit-tested with fakes.
 */
import type { BrowserWindowConstructorOptions, MessageBoxOptions } from 'electron';
import { type HardenableContents, type PreventableEvent, type RefusalSink, hardenContents } from './security.js';
import type { SafetyPort } from './service-port.js';

/** A renderer frame as main sees it (structural; Electron's WebFrameMain satisfies it). */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
  readonly processId: number;
  readonly routingId: number;
}

/** The part of Electron's WebContents the shell uses (structural). */
export type WebContentsLike = HardenableContents & {
  readonly mainFrame: FrameLike;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  reload(): void;
  on(event: 'render-process-gone', listener: (event: unknown, details: { readonly reason: string; readonly exitCode: number }) => void): unknown;
  on(event: 'unresponsive', listener: () => void): unknown;
  on(event: 'responsive', listener: () => void): unknown;
  on(event: 'preload-error', listener: (event: unknown, preloadPath: string, error: Error) => void): unknown;
  on(event: 'will-prevent-unload', listener: (event: PreventableEvent) => void): unknown;
};

/** The part of Electron's BrowserWindow the shell uses (structural). */
export interface WindowLike {
  readonly webContents: WebContentsLike;
  loadFile(filePath: string): Promise<void>;
  on(event: 'close', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
  once(event: 'ready-to-show', listener: () => void): unknown;
  show(): void;
  close(): void;
  focus(): void;
  isMinimized(): boolean;
  restore(): void;
  isDestroyed(): boolean;
}

/** The shell's log (main passes the console; tests collect). Never given page content. */
export type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface MainWindowDeps<W extends WindowLike> {
  /** Electron's BrowserWindow class (a fake in tests); createMainWindow constructs the one window. */
  readonly BrowserWindow: new (options: BrowserWindowConstructorOptions) => W;
  /** Electron's dialog (showMessageBox; showMessageBoxSync where Electron needs the answer at once). */
  readonly dialog: { showMessageBox(window: W, options: MessageBoxOptions): Promise<{ readonly response: number }>; showMessageBoxSync(window: W, options: MessageBoxOptions): number };
  readonly service: SafetyPort;
  /** Absolute path of the bundled preload script (CommonJS, out/preload/preload.cjs). */
  readonly preloadPath: string;
  /** Absolute path of the renderer's index.html (out/renderer/index.html). */
  readonly indexPath: string;
  /** The file:// URL of indexPath: the only page this window may show. */
  readonly appUrl: string;
  /** Developer tools (never in a packaged build). */
  readonly devTools: boolean;
  readonly log?: Log;
  readonly refused?: RefusalSink;
  /** Reloads after a renderer crash before giving up (default 3). */
  readonly maxCrashReloads?: number;
}

export interface MainWindow<W extends WindowLike> {
  readonly window: W;
  /** Closes the window without asking (quitting on a signal); output is the caller's concern. */
  closeWithoutAsking(): void;
  /** Whether the window is gone. */
  isClosed(): boolean;
  /** Brings the window to the front (a second instance was started). */
  focus(): void;
}

/** The question asked when the window is closed while output may be on. */
export const CLOSE_DURING_SESSION: MessageBoxOptions = {
  type: 'warning',
  title: 'Output is on',
  message: 'Stimulation may still be running.',
  detail: 'Closing the EDN Controller stops all output now (emergency stop). The session is recorded as stopped.',
  buttons: ['Stop and quit', 'Cancel'],
  defaultId: 1,
  cancelId: 1,
  noLink: true,
};
export const STOP_AND_QUIT = 0;

/**
 * The question asked when the page keeps itself open on a close or reload (its beforeunload: a
 * protocol with unsaved edits). Electron shows nothing of its own, so without it the window would
 * silently refuse to close.
 */
export const LEAVE_UNSAVED: MessageBoxOptions = {
  type: 'question',
  title: 'Unsaved changes',
  message: 'A protocol has changes that are not saved.',
  detail: 'Leave drops them. Stay goes back to the editor, where they can be saved.',
  buttons: ['Stay', 'Leave'],
  defaultId: 0,
  cancelId: 0,
  noLink: true,
};
export const LEAVE = 1;

/** Calls the e-stop and never lets it throw or reject into Electron's event loop. */
async function estop(service: SafetyPort, source: Parameters<SafetyPort['emergencyStop']>[0], log: Log): Promise<void> {
  try {
    await service.emergencyStop(source);
  } catch (err) {
    log('error', `emergency stop (${source}) failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function createMainWindow<W extends WindowLike>(deps: MainWindowDeps<W>): MainWindow<W> {
  const log: Log = deps.log ?? (() => undefined);
  const { service } = deps;
  // The options are written out here, where the window is constructed, so that Electron security
  // scanners (Electronegativity: `npm run electronegativity`) read them: behind a variable or a
  // function they cannot, and report the hardening as missing. Every flag is explicit, never a
  // default (Electron's security checklist, docs/tutorial/security.md).
  const { BrowserWindow } = deps;
  const window = new BrowserWindow({
    title: 'EDN Controller',
    width: 1280,
    height: 860,
    minWidth: 960,
    minHeight: 640,
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: deps.preloadPath,
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
      // A middle click may open a link in a new window; new windows are refused anyway
      // (security.ts: hardenContents), and the app has no use for the auxclick event.
      disableBlinkFeatures: 'Auxclick',
      devTools: deps.devTools,
    },
  });
  const contents = window.webContents;
  hardenContents(contents, deps.appUrl, deps.refused);

  // A confirmed close ("Stop and quit", or a signal): the next 'close' passes without asking, and a
  // page's beforeunload may not keep the window open. One-shot, so a close that a page's
  // beforeunload cancelled when no output was on can never let a later close skip the question.
  let bypassNextClose = false;
  let forcing = false;
  let closed = false;
  let asking = false;
  let crashReloads = 0;
  const maxCrashReloads = deps.maxCrashReloads ?? 3;

  // ---- the renderer is the clinician's only e-stop button: losing it while output is on stops output.
  contents.on('render-process-gone', (_event, details) => {
    const on = service.outputMayBeOn();
    log('error', `renderer gone (${details.reason}, exit ${details.exitCode})${on ? ': emergency stop' : ''}`);
    if (on) void estop(service, 'renderer-crash', log);
    if (forcing || closed || window.isDestroyed() || details.reason === 'clean-exit') return;
    if (crashReloads >= maxCrashReloads) {
      log('error', `renderer crashed ${crashReloads + 1} times; not reloading again`);
      return;
    }
    crashReloads += 1;
    contents.reload();
  });
  // Chromium's hang monitor (about 15 s, and only once someone tries to use the window); the
  // heartbeat (src/app/control.ts, bound in app.ts) catches a frozen page sooner.
  contents.on('unresponsive', () => {
    const on = service.outputMayBeOn();
    log('warn', `renderer unresponsive${on ? ': emergency stop' : ''}`);
    if (on) void estop(service, 'ui-unresponsive', log);
  });
  contents.on('responsive', () => log('info', 'renderer responsive again'));
  contents.on('preload-error', (_event, preloadPath, error) => log('error', `preload ${preloadPath} failed: ${error.message}`));

  // ---- closing during a session asks, and stops output before the window goes.
  window.on('close', (event) => {
    if (bypassNextClose) {
      bypassNextClose = false;
      return;
    }
    if (!service.outputMayBeOn()) return;
    event.preventDefault();
    if (asking) return;
    asking = true;
    void deps.dialog
      .showMessageBox(window, CLOSE_DURING_SESSION)
      .then(
        async ({ response }) => {
          if (response !== STOP_AND_QUIT) return;
          await estop(service, 'window-close', log);
          forceClose();
        },
        (err: unknown) => log('error', `close dialog failed: ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => {
        asking = false;
      });
  });
  contents.on('will-prevent-unload', (event) => {
    if (forcing) {
      event.preventDefault(); // ignore the page's beforeunload: the close was confirmed
      return;
    }
    // The page would stay (unsaved edits): ask, and leave only when told to (Electron needs the answer now).
    if (deps.dialog.showMessageBoxSync(window, LEAVE_UNSAVED) === LEAVE) event.preventDefault();
  });
  window.on('closed', () => {
    closed = true;
  });

  function forceClose(): void {
    if (closed || window.isDestroyed()) return;
    bypassNextClose = true;
    forcing = true;
    window.close();
  }

  window.once('ready-to-show', () => window.show());
  window.loadFile(deps.indexPath).catch((err: unknown) => log('error', `could not load ${deps.indexPath}: ${err instanceof Error ? err.message : String(err)}`));

  return {
    window,
    closeWithoutAsking: forceClose,
    isClosed: () => closed || window.isDestroyed(),
    focus() {
      if (closed || window.isDestroyed()) return;
      if (window.isMinimized()) window.restore();
      window.focus();
    },
  };
}
