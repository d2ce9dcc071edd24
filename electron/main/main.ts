/**
 * The main process entry (bundled by `npm start` to out/main/main.cjs, loaded by entry.cjs): the
 * real Electron modules and the real ControllerService, wired by startApp (app.ts). Passing the
 * real objects here is what checks the structural types of app.ts, window.ts, ipc.ts and
 * security.ts against the electron package's own declarations.
 */
import { chmodSync } from 'node:fs';
import { BrowserWindow, app, dialog, ipcMain, session } from 'electron';
import { createDispatcher } from '../../src/app/dispatch.js';
import { ControllerService } from '../../src/app/service.js';
import { startApp } from './app.js';
import type { Log } from './window.js';

const log: Log = (level, message) => {
  const line = `[edn main] ${message}`;
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.info(line);
};

startApp<BrowserWindow, ControllerService>({
  app,
  session: () => session.defaultSession,
  ipcMain,
  dialog,
  BrowserWindow,
  createService: (dataDir) => {
    const service = new ControllerService({ dataDir, allowHardware: true, appVersion: app.getVersion() });
    for (const problem of service.problems) log('warn', problem);
    return service;
  },
  createDispatch: (service) => createDispatcher(service),
  restrictFile: (file) => chmodSync(file, 0o600),
  onSignal: (handler) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => handler(signal));
  },
  log,
}).then(
  (running) => {
    if (running) log('info', `app page ${running.appUrl}`);
  },
  (err: unknown) => {
    // Without a window there is no e-stop button: a failed start ends the app (no output can be on yet).
    log('error', `could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    app.exit(1);
  },
);
