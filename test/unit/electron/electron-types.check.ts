// The structural types main and preload are written against are satisfied by the electron
// package's own declarations (node_modules/electron/electron.d.ts), and the ControllerService is
// what the shell needs. This is a compile-time fact, so it lives here as types that `tsc` checks
// (`npm run typecheck`, which `npm test` runs before vitest), not as a vitest file: as a test it
// passed under a plain `vitest run` whatever the types said (expectTypeOf does nothing at run
// time), and checking it at run time with the compiler API costs over a minute on this machine.
// A mismatch here is a type error on the line that names the pair.
import type { App, BrowserWindow, ContextBridge, Dialog, IpcMain, IpcMainInvokeEvent, IpcRenderer, Session, WebContents, WebFrameMain } from 'electron';
import type { ControllerService } from '../../../src/app/service.js';
import type { AppLike } from '../../../electron/main/app.js';
import type { InvokeEventLike, IpcMainLike, IpcTarget } from '../../../electron/main/ipc.js';
import type { HardenableContents, SessionLike } from '../../../electron/main/security.js';
import type { ShellService } from '../../../electron/main/service-port.js';
import type { FrameLike, MainWindowDeps, WebContentsLike, WindowLike } from '../../../electron/main/window.js';
import type { ContextBridgeLike, IpcRendererLike } from '../../../electron/preload/api.js';

/** Compiles only when `Actual` is assignable to `Wanted`. */
type Satisfies<Actual extends Wanted, Wanted> = [Actual, Wanted];

export type MainProcessObjects = [
  Satisfies<App, AppLike>,
  Satisfies<BrowserWindow, WindowLike>,
  Satisfies<WebContents, WebContentsLike>,
  Satisfies<WebContents, HardenableContents>,
  Satisfies<WebContents, IpcTarget>,
  Satisfies<WebFrameMain, FrameLike>,
  Satisfies<Session, SessionLike>,
  Satisfies<IpcMain, IpcMainLike>,
  Satisfies<IpcMainInvokeEvent, InvokeEventLike>,
  Satisfies<Dialog, MainWindowDeps<BrowserWindow>['dialog']>,
];

export type PreloadObjects = [Satisfies<IpcRenderer, IpcRendererLike>, Satisfies<ContextBridge, ContextBridgeLike>];

export type TheServiceIsWhatTheShellNeeds = Satisfies<ControllerService, ShellService>;
