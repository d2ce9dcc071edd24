/**
 * The Electron IPC binding of the contract (src/app/contract.ts), after VS Code's
 * `validatedIpcMain`: one invoke channel for every call, one push channel for every event.
 *
 * - A call is answered only when it comes from the app's own main frame: the sender is our
 *   window's webContents, the frame is its top frame, and the frame shows the app page. Anything
 *   else is refused (counted and logged) without reaching the service.
 * - The payload is one wire message `{id, call, input}`; the dispatcher validates it with zod and
 *   answers `{ok: false, error: {code: 'BAD_INPUT'}}` for anything malformed. The handler never
 *   throws: a thrown error would cross IPC as a bare message.
 * - Events go only to our window, as `{event, data}` on IPC_EVENT_CHANNEL.
 */
import { type ContractError, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type Result } from '../../src/app/contract.js';
import { isAppUrl } from './security.js';
import type { ShellService } from './service-port.js';
import type { FrameLike, Log } from './window.js';

/** What Electron passes to an invoke handler (structural; IpcMainInvokeEvent satisfies it). */
export interface InvokeEventLike {
  readonly sender: unknown;
  readonly senderFrame: FrameLike | null;
}

/** The part of Electron's ipcMain used (structural). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** The webContents IPC talks to (structural). */
export interface IpcTarget {
  readonly mainFrame: FrameLike;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
}

/**
 * Validates one wire message and runs the call (src/app/dispatch.ts `createDispatcher`); resolves
 * to the reply `{id, result}` and never rejects. Over invoke the reply is already matched to its
 * request, so the renderer is given `result` alone.
 */
export type Dispatch = (message: unknown) => Promise<{ readonly result: Result<unknown> }>;

export interface IpcDeps {
  readonly ipcMain: IpcMainLike;
  readonly dispatch: Dispatch;
  /** The service's pushed events (`service.on`). */
  readonly events: Pick<ShellService, 'on'>;
  /** Our window's webContents while it exists (the only trusted sender and the only event target). */
  readonly target: () => IpcTarget | undefined;
  /** The file:// URL of the app page. */
  readonly appUrl: string;
  readonly log?: Log;
}

export interface IpcBinding {
  /** Calls refused because of their sender, since binding. */
  refused(): number;
  /** Removes the handler and the event subscription. */
  dispose(): void;
}

export type SenderVerdict = { ok: true } | { ok: false; reason: string };

/** Whether an invoke comes from the app's own main frame (see the module comment). */
export function checkSender(event: InvokeEventLike, target: IpcTarget | undefined, appUrl: string): SenderVerdict {
  if (!target || target.isDestroyed()) return { ok: false, reason: 'no app window' };
  if (event.sender !== target) return { ok: false, reason: 'sender is not the app window' };
  const frame = event.senderFrame;
  if (!frame) return { ok: false, reason: 'sender frame is gone' };
  const main = target.mainFrame;
  if (frame.parent !== null || frame.processId !== main.processId || frame.routingId !== main.routingId) {
    return { ok: false, reason: 'sender is not the main frame' };
  }
  if (!isAppUrl(frame.url, appUrl)) return { ok: false, reason: 'sender frame does not show the app page' };
  return { ok: true };
}

function failure(code: ContractError['code'], message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

export function bindIpc(deps: IpcDeps): IpcBinding {
  const log: Log = deps.log ?? (() => undefined);
  let refused = 0;

  deps.ipcMain.handle(IPC_CALL_CHANNEL, async (event, ...args) => {
    const verdict = checkSender(event, deps.target(), deps.appUrl);
    if (!verdict.ok) {
      refused += 1;
      log('warn', `IPC refused (${verdict.reason}); ${refused} refused so far`);
      return failure('BAD_INPUT', `refused: ${verdict.reason}`);
    }
    if (args.length !== 1) return failure('BAD_INPUT', `expected one message {id, call, input}, got ${args.length} arguments`);
    try {
      return (await deps.dispatch(args[0])).result;
    } catch (err) {
      // The dispatcher never throws by contract; this is a last line, not a code path.
      log('error', `dispatch threw: ${err instanceof Error ? err.message : String(err)}`);
      return failure('INTERNAL', err instanceof Error ? err.message : String(err));
    }
  });

  const unsubscribe = deps.events.on(({ event, data }) => {
    const target = deps.target();
    if (!target || target.isDestroyed()) return;
    try {
      target.send(IPC_EVENT_CHANNEL, { event, data });
    } catch (err) {
      // A renderer that is going away must not break the service's event stream.
      log('warn', `could not push ${event}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

  let disposed = false;
  return {
    refused: () => refused,
    dispose() {
      if (disposed) return;
      disposed = true;
      deps.ipcMain.removeHandler(IPC_CALL_CHANNEL);
      unsubscribe();
    },
  };
}
