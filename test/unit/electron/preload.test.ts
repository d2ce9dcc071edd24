// The preload: `window.edn` is exactly one function per contract call plus `on`, never
// ipcRenderer; calls go out as {id, call, input}; events arrive as data only.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CALL_NAMES, type EdnApi, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../../../src/app/contract.js';
import { API_KEY, type IpcRendererLike, createPreloadApi, installPreload } from '../../../electron/preload/api.js';
import { bundleOptions } from '../../../electron/main/launcher.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** An ipcRenderer with a main process behind it that answers every call with `answer`. */
class FakeIpcRenderer extends EventEmitter implements IpcRendererLike {
  readonly invoked: { channel: string; args: unknown[] }[] = [];
  answer: (message: unknown) => Promise<unknown> = () => Promise.resolve({ ok: true, data: null });
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    return this.answer(args[0]);
  }
  /** Main pushes an event (the first listener argument is Electron's IpcRendererEvent). */
  push(payload: unknown): void {
    this.emit(IPC_EVENT_CHANNEL, { sender: this, senderId: 0, ports: [] }, payload);
  }
  /** Anything else a generic send would expose. */
  send(): void {
    throw new Error('the preload must never send');
  }
}

function exposed(): { api: EdnApi; ipc: FakeIpcRenderer; exposures: [string, unknown][] } {
  const ipc = new FakeIpcRenderer();
  const exposures: [string, unknown][] = [];
  installPreload({ contextBridge: { exposeInMainWorld: (key, api) => void exposures.push([key, api]) }, ipcRenderer: ipc });
  return { api: exposures[0]![1] as EdnApi, ipc, exposures };
}

/** Every value reachable from `root` (own properties, depth-first). */
function reachable(root: unknown, seen = new Set<unknown>()): Set<unknown> {
  if ((typeof root !== 'object' && typeof root !== 'function') || root === null || seen.has(root)) return seen;
  seen.add(root);
  for (const key of Reflect.ownKeys(root)) reachable((root as Record<PropertyKey, unknown>)[key], seen);
  return seen;
}

describe('window.edn', () => {
  it('is exposed once, as "edn"', () => {
    const { exposures } = exposed();
    expect(exposures.map(([key]) => key)).toEqual([API_KEY]);
    expect(API_KEY).toBe('edn');
  });

  it('has exactly one function per contract call, plus on', () => {
    const { api } = exposed();
    expect(Object.keys(api).sort()).toEqual([...CALL_NAMES, 'on'].sort());
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('never exposes ipcRenderer, nor anything reachable from it', () => {
    const { api, ipc } = exposed();
    const values = reachable(api);
    expect(values.has(ipc)).toBe(false);
    expect([...values].some((v) => v instanceof EventEmitter)).toBe(false);
    for (const forbidden of ['ipcRenderer', 'send', 'invoke', 'sendSync', 'postMessage', 'removeAllListeners', 'emit']) expect(api).not.toHaveProperty(forbidden);
  });

  it('sends each call as invoke(IPC_CALL_CHANNEL, {id, call, input}) with fresh ids, and returns the result', async () => {
    const { api, ipc } = exposed();
    ipc.answer = () => Promise.resolve({ ok: true, data: { targetMa: 4.5 } });
    await expect(api.titrate({ deltaMa: 0.5 })).resolves.toEqual({ ok: true, data: { targetMa: 4.5 } });
    await api.estop({ source: 'button' });
    await api.getSnapshot({});
    expect(ipc.invoked).toEqual([
      { channel: IPC_CALL_CHANNEL, args: [{ id: 0, call: 'titrate', input: { deltaMa: 0.5 } }] },
      { channel: IPC_CALL_CHANNEL, args: [{ id: 1, call: 'estop', input: { source: 'button' } }] },
      { channel: IPC_CALL_CHANNEL, args: [{ id: 2, call: 'getSnapshot', input: {} }] },
    ]);
  });

  it('passes whatever the page gives through unchanged (main validates), and a missing input as {}', async () => {
    const { api, ipc } = exposed();
    const call = api.start as unknown as (input?: unknown) => Promise<unknown>;
    await call({ targetMa: 'lots', extra: 1 });
    await call();
    expect(ipc.invoked.map((i) => (i.args[0] as { input: unknown }).input)).toEqual([{ targetMa: 'lots', extra: 1 }, {}]);
  });

  it('turns a failed invoke into an INTERNAL result (a call never throws into the page)', async () => {
    const { api, ipc } = exposed();
    ipc.answer = () => Promise.reject(new Error("Error invoking remote method 'edn:call': no handler"));
    await expect(api.pause({})).resolves.toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });
});

describe('events', () => {
  it('on(event, listener) receives only that event, and only its data (never the IPC event object)', () => {
    const { api, ipc } = exposed();
    const seen: unknown[][] = [];
    api.on('telemetry', (...args: unknown[]) => void seen.push(args));
    ipc.push({ event: 'snapshot', data: { state: 'idle' } });
    ipc.push({ event: 'telemetry', data: { channel: 1, measuredMa: 2 } });
    expect(seen).toEqual([[{ channel: 1, measuredMa: 2 }]]);
  });

  it('drops malformed pushes', () => {
    const { api, ipc } = exposed();
    const seen: unknown[] = [];
    api.on('snapshot', (d) => void seen.push(d));
    for (const bad of [undefined, null, 'snapshot', { event: 'snapshot' }, { event: 'exec', data: 1 }, { event: 'snapshot', data: 1, extra: 2 }]) ipc.push(bad);
    expect(seen).toEqual([]);
  });

  it('a listener that throws does not starve the others', () => {
    const { api, ipc } = exposed();
    const seen: unknown[] = [];
    api.on('snapshot', () => {
      throw new Error('page bug');
    });
    api.on('snapshot', (d) => void seen.push(d));
    ipc.push({ event: 'snapshot', data: 1 });
    expect(seen).toEqual([1]);
  });

  it('unsubscribe stops delivery; the IPC listener exists only while someone listens', () => {
    const { api, ipc } = exposed();
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
    const seen: unknown[] = [];
    const offA = api.on('snapshot', (d) => void seen.push(['a', d]));
    const offB = api.on('snapshot', (d) => void seen.push(['b', d]));
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(1);
    ipc.push({ event: 'snapshot', data: 1 });
    offA();
    offA();
    ipc.push({ event: 'snapshot', data: 2 });
    offB();
    ipc.push({ event: 'snapshot', data: 3 });
    expect(seen).toEqual([
      ['a', 1],
      ['b', 1],
      ['b', 2],
    ]);
    expect(ipc.listenerCount(IPC_EVENT_CHANNEL)).toBe(0);
  });

  it('createPreloadApi gives independent id sequences per instance', async () => {
    const ipc = new FakeIpcRenderer();
    await createPreloadApi(ipc).pause({});
    await createPreloadApi(ipc).pause({});
    expect(ipc.invoked.map((i) => (i.args[0] as { id: number }).id)).toEqual([0, 0]);
  });
});

describe('the preload bundle', () => {
  it('is one CommonJS file that requires only "electron" (a sandboxed preload can require little else)', async () => {
    const options = bundleOptions(ROOT).preload;
    const result = await build({ ...options, entryPoints: [...options.entryPoints], external: [...options.external], write: false, metafile: true, logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles).toHaveLength(1);
    const code = result.outputFiles[0]!.text;
    const required = new Set([...code.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]));
    expect([...required]).toEqual(['electron']);
    expect(code).not.toMatch(/\bimport\s*\(|\bimport\.meta\b/);
  });
});
