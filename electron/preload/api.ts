/**
 * The preload's whole surface: `window.edn`, one function per contract call plus `on(event,
 * listener)` for pushed events, and nothing else. ipcRenderer itself, its event objects (whose
 * `sender` is ipcRenderer) and any generic send never reach the page.
 *
 * Written as a factory over injected `contextBridge` and `ipcRenderer`, so it is unit-tested
 * without Electron; electron/preload/index.ts passes the real ones. The launcher bundles this to
 * one CommonJS file (a sandboxed preload can require only 'electron' and a few Node modules).
 */
import { type CallName, type EdnApi, type EventName, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, WireEventSchema, makeApi } from '../../src/app/contract.js';

/** The name of the API on `window`. */
export const API_KEY = 'edn';

/** The part of Electron's ipcRenderer used (structural; IpcRenderer satisfies it). */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** The part of Electron's contextBridge used (structural). */
export interface ContextBridgeLike {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}

/** The API over an ipcRenderer: calls as `invoke(IPC_CALL_CHANNEL, {id, call, input})`, events from IPC_EVENT_CHANNEL. */
export function createPreloadApi(ipcRenderer: IpcRendererLike): EdnApi {
  let nextId = 0;
  const invoke = (call: CallName, input: unknown): Promise<unknown> => {
    const id = nextId;
    nextId = nextId >= Number.MAX_SAFE_INTEGER ? 0 : nextId + 1;
    return ipcRenderer.invoke(IPC_CALL_CHANNEL, { id, call, input });
  };

  // One ipcRenderer listener, attached while anyone listens; it forwards only `{event, data}`.
  const listeners = new Set<(event: EventName, data: unknown) => void>();
  const onMessage = (_event: unknown, ...args: unknown[]): void => {
    const parsed = WireEventSchema.safeParse(args[0]);
    if (!parsed.success) return;
    for (const listener of [...listeners]) {
      try {
        listener(parsed.data.event, parsed.data.data);
      } catch {
        // One page listener throwing must not starve the others.
      }
    }
  };
  const subscribe = (listener: (event: EventName, data: unknown) => void): (() => void) => {
    if (listeners.size === 0) ipcRenderer.on(IPC_EVENT_CHANNEL, onMessage);
    // A distinct wrapper per subscription, so subscribing the same function twice needs two unsubscribes.
    const entry = (event: EventName, data: unknown) => listener(event, data);
    listeners.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      listeners.delete(entry);
      if (listeners.size === 0) ipcRenderer.removeListener(IPC_EVENT_CHANNEL, onMessage);
    };
  };

  return Object.freeze(makeApi(invoke, subscribe));
}

/** Exposes the API to the page as `window.edn`. */
export function installPreload(deps: { contextBridge: ContextBridgeLike; ipcRenderer: IpcRendererLike }): void {
  deps.contextBridge.exposeInMainWorld(API_KEY, createPreloadApi(deps.ipcRenderer));
}
