// The structural types main and preload are written against are satisfied by the electron
// package's own declarations (node_modules/electron/electron.d.ts). Checked by `tsc` (npm run
// typecheck covers test/); the runtime assertions only make the file a test.
import type { App, BrowserWindow, ContextBridge, Dialog, IpcMain, IpcMainInvokeEvent, IpcRenderer, Session, WebContents, WebFrameMain } from 'electron';
import { describe, expectTypeOf, it } from 'vitest';
import type { ControllerService } from '../../../src/app/service.js';
import type { AppLike } from '../../../electron/main/app.js';
import type { InvokeEventLike, IpcMainLike, IpcTarget } from '../../../electron/main/ipc.js';
import type { HardenableContents, SessionLike } from '../../../electron/main/security.js';
import type { ShellService } from '../../../electron/main/service-port.js';
import type { FrameLike, MainWindowDeps, WebContentsLike, WindowLike } from '../../../electron/main/window.js';
import type { ContextBridgeLike, IpcRendererLike } from '../../../electron/preload/api.js';

describe('types against electron.d.ts', () => {
  it('main-process objects', () => {
    expectTypeOf<App>().toExtend<AppLike>();
    expectTypeOf<BrowserWindow>().toExtend<WindowLike>();
    expectTypeOf<WebContents>().toExtend<WebContentsLike>();
    expectTypeOf<WebContents>().toExtend<HardenableContents>();
    expectTypeOf<WebContents>().toExtend<IpcTarget>();
    expectTypeOf<WebFrameMain>().toExtend<FrameLike>();
    expectTypeOf<Session>().toExtend<SessionLike>();
    expectTypeOf<IpcMain>().toExtend<IpcMainLike>();
    expectTypeOf<IpcMainInvokeEvent>().toExtend<InvokeEventLike>();
    expectTypeOf<Dialog>().toExtend<MainWindowDeps<BrowserWindow>['dialog']>();
  });

  it('preload objects', () => {
    expectTypeOf<IpcRenderer>().toExtend<IpcRendererLike>();
    expectTypeOf<ContextBridge>().toExtend<ContextBridgeLike>();
  });

  it('the ControllerService is what the shell needs', () => {
    expectTypeOf<ControllerService>().toExtend<ShellService>();
  });
});
