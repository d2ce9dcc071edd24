/**
 * The main process, put together: one instance, one sandboxed window on the app page, the session
 * policy, the IPC binding of the contract over the ControllerService, and an orderly quit that
 * never leaves output on. Every Electron module and the service are injected (main.ts passes the
 * real ones), so the whole startup and shutdown is unit-tested with fakes.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SchedulerLike } from 'rxjs';
import { IPC_EVENT_CHANNEL } from '../../src/app/contract.js';
import { SessionControl } from '../../src/app/control.js';
import { type Dispatch, type IpcBinding, type IpcMainLike, bindIpc } from './ipc.js';
import { APP_LAYOUT } from './layout.js';
import { type HardenableContents, type PolicyRefusal, type PreventableEvent, type SessionLike, applySessionPolicy, hardenContents } from './security.js';
import type { ShellService } from './service-port.js';
import { type Log, type MainWindow, type MainWindowDeps, type WindowLike, createMainWindow } from './window.js';

/** The part of Electron's app used (structural). */
export interface AppLike {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  enableSandbox(): void;
  whenReady(): Promise<unknown>;
  getPath(name: 'userData'): string;
  getAppPath(): string;
  quit(): void;
  on(event: 'second-instance', listener: () => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'will-quit', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'web-contents-created', listener: (event: unknown, contents: HardenableContents) => void): unknown;
}

export interface AppDeps<W extends WindowLike, S extends ShellService> {
  readonly app: AppLike;
  /** The session the window uses (Electron's `session.defaultSession`; valid once ready). */
  readonly session: () => SessionLike;
  readonly ipcMain: IpcMainLike;
  readonly BrowserWindow: MainWindowDeps<W>['BrowserWindow'];
  readonly dialog: MainWindowDeps<W>['dialog'];
  /** Creates the ControllerService on the data directory (app.getPath('userData')). */
  readonly createService: (dataDir: string) => S | Promise<S>;
  /** Validating dispatcher over the service (src/app/dispatch.ts). */
  readonly createDispatch: (service: S) => Dispatch;
  /** Makes a file the page saved readable by its owner only (main.ts: chmod 0600). */
  readonly restrictFile?: (file: string) => void;
  /** Registers a handler for SIGINT/SIGTERM of the main process (optional). */
  readonly onSignal?: (handler: (signal: string) => void) => void;
  /** Runs the renderer's pings and liveness deadline (SessionControl). Default: the monotonic real-time scheduler. */
  readonly scheduler?: SchedulerLike;
  readonly log?: Log;
}

export interface RunningApp<W extends WindowLike, S extends ShellService> {
  readonly service: S;
  readonly main: MainWindow<W>;
  readonly ipc: IpcBinding;
  /** Who controls the session, and whether the renderer still lives (src/app/control.ts). */
  readonly control: SessionControl;
  readonly appUrl: string;
}

function describe(refusal: PolicyRefusal): string {
  if ('url' in refusal) return `${refusal.kind} to ${refusal.url}`;
  if ('permission' in refusal) return `${refusal.kind} '${refusal.permission}'`;
  return refusal.kind;
}

/**
 * Starts the app. Resolves to undefined when another instance already runs (this one quits and
 * the other comes to the front).
 */
export async function startApp<W extends WindowLike, S extends ShellService>(deps: AppDeps<W, S>): Promise<RunningApp<W, S> | undefined> {
  const { app } = deps;
  const log: Log = deps.log ?? (() => undefined);
  if (!app.requestSingleInstanceLock()) {
    log('info', 'another EDN Controller is running; bringing it to the front');
    app.quit();
    return undefined;
  }
  // Sandbox every renderer, whatever its webPreferences say (must precede 'ready').
  app.enableSandbox();

  const appPath = app.getAppPath();
  const indexPath = path.join(appPath, ...APP_LAYOUT.rendererIndex);
  const preloadPath = path.join(appPath, ...APP_LAYOUT.preload);
  const appUrl = pathToFileURL(indexPath).href;
  const refused = (refusal: PolicyRefusal) => log('warn', `security policy refused ${describe(refusal)}`);

  // Any webContents at all (ours included, before its window returns) gets the navigation policy.
  app.on('web-contents-created', (_event, contents) => hardenContents(contents, appUrl, refused));

  await app.whenReady();
  // A saved report identifies a session of a patient: 0600, like the journals.
  applySessionPolicy(deps.session(), refused, (file) => {
    try {
      (deps.restrictFile ?? (() => undefined))(file);
    } catch (err) {
      log('warn', `could not make ${file} private: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

  const dataDir = app.getPath('userData');
  const service = await deps.createService(dataDir);
  log('info', `data directory ${dataDir}`);

  const main = createMainWindow<W>({
    BrowserWindow: deps.BrowserWindow,
    dialog: deps.dialog,
    service,
    preloadPath,
    indexPath,
    appUrl,
    devTools: !app.isPackaged,
    log,
    refused,
  });
  const target = () => (main.isClosed() || main.window.isDestroyed() ? undefined : main.window.webContents);
  // The same rule as the browser host: the window's every message goes through SessionControl, which
  // pings the page and e-stops a session whose page gave no sign of life for UI_LIVENESS_MS (a hung
  // renderer is caught long before Chromium's 'unresponsive'). One window is one UI; a second
  // window would join as a second UI and watch read-only until it took control.
  const control = new SessionControl({
    port: service,
    ...(deps.scheduler === undefined ? {} : { scheduler: deps.scheduler }),
    log: (message) => log('warn', message),
  });
  const windowClient = control.join({
    label: 'the app window',
    send: (event) => {
      const t = target();
      if (t && !t.isDestroyed()) t.send(IPC_EVENT_CHANNEL, event);
    },
  });
  const dispatch = deps.createDispatch(service);
  const ipc = bindIpc({
    ipcMain: deps.ipcMain,
    dispatch: (message) => control.handle(windowClient, message, dispatch),
    events: service,
    target,
    appUrl,
    log,
  });

  app.on('second-instance', () => main.focus());
  // The session is main's to show (its controller runs in a utilityProcess): with no window there
  // would be no e-stop button, so no window, no app.
  app.on('window-all-closed', () => app.quit());

  let disposed = false;
  app.on('will-quit', (event) => {
    if (disposed) return;
    event.preventDefault();
    disposed = true;
    void (async () => {
      // The close guard stops output before the window goes; this is the last line.
      if (service.outputMayBeOn()) {
        try {
          await service.emergencyStop('shutdown');
        } catch (err) {
          log('error', `emergency stop at quit failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      ipc.dispose();
      control.dispose();
      try {
        await service.dispose();
      } catch (err) {
        log('error', `service dispose failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      app.quit();
    })();
  });

  deps.onSignal?.((signal) => {
    log('warn', `${signal}: stopping output and quitting`);
    void (async () => {
      if (service.outputMayBeOn()) {
        try {
          await service.emergencyStop('signal');
        } catch (err) {
          log('error', `emergency stop on ${signal} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      main.closeWithoutAsking();
      app.quit();
    })();
  });

  return { service, main, ipc, control, appUrl };
}
