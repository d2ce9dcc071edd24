/**
 * The main process entry (bundled by `npm start` to out/main/main.cjs, loaded by entry.cjs): the
 * real Electron modules and the ControllerService in its own utilityProcess (out/main/
 * controller.cjs, supervised by src/app/worker-host.ts), wired by startApp (app.ts). Passing the
 * real objects here is what checks the structural types of app.ts, window.ts, ipc.ts, security.ts
 * and controller-process.ts against the electron package's own declarations.
 */
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { BrowserWindow, app, dialog, ipcMain, session, utilityProcess } from 'electron';
import { createDispatcher } from '../../src/app/dispatch.js';
import { type SupervisedController, superviseController } from '../../src/app/worker-host.js';
import { startApp } from './app.js';
import { utilityProcessFactory } from './controller-process.js';
import { APP_LAYOUT } from './layout.js';
import type { Log } from './window.js';

const log: Log = (level, message) => {
  const line = `[edn main] ${message}`;
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.info(line);
};

startApp<BrowserWindow, SupervisedController>({
  app,
  session: () => session.defaultSession,
  ipcMain,
  dialog,
  BrowserWindow,
  // The session core in its own utilityProcess (src/app/worker-host.ts): the windows' thread and
  // the heartbeat's share nothing; if it dies, main shows "controller stopped" and starts another.
  createService: async (dataDir) => {
    const factory = utilityProcessFactory((file, args, options) => utilityProcess.fork(file, args, options), path.join(app.getAppPath(), ...APP_LAYOUT.controller));
    const service = superviseController({ dataDir, allowHardware: true, appVersion: app.getVersion(), factory, log: (message) => log('warn', message) });
    await service.ready();
    for (const problem of service.problems) log('warn', problem);
    return service;
  },
  // Results are checked against the contract here too (the controller checked them before sending).
  createDispatch: (service) => createDispatcher(service, { validateOutput: true, onInvalidOutput: (call, problem) => log('error', `${call} returned a result outside the contract: ${problem}`) }),
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
