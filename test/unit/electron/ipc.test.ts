// The IPC binding: only the app's own main frame is answered, payloads are validated by the real
// dispatcher (BAD_INPUT, never a throw), events reach only our window.
import { describe, expect, it, vi } from 'vitest';
import { CALL_NAMES, type CallName, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type Result } from '../../../src/app/contract.js';
import { createDispatcher } from '../../../src/app/dispatch.js';
import type { ContractHandlers } from '../../../src/app/service.js';
import { type Dispatch, bindIpc, checkSender } from '../../../electron/main/ipc.js';
import { APP_URL, FakeFrame, FakeIpcMain, FakeService, FakeWebContents, memoryLog } from './fakes.js';

/** Contract handlers that record their calls and answer ok(null). */
function fakeHandlers() {
  const calls: { call: CallName; input: unknown }[] = [];
  const handlers = Object.fromEntries(
    CALL_NAMES.map((call) => [
      call,
      (input: unknown) => {
        calls.push({ call, input });
        return Promise.resolve({ ok: true, data: null });
      },
    ]),
  ) as unknown as ContractHandlers;
  return { calls, handlers };
}

function setup(options: { dispatch?: Dispatch } = {}) {
  const ipcMain = new FakeIpcMain();
  const contents = new FakeWebContents();
  const service = new FakeService();
  const { calls, handlers } = fakeHandlers();
  const log = memoryLog();
  let target: FakeWebContents | undefined = contents;
  const binding = bindIpc({
    ipcMain,
    dispatch: options.dispatch ?? createDispatcher(handlers),
    events: service,
    target: () => target,
    appUrl: APP_URL,
    log,
  });
  const fromApp = { sender: contents, senderFrame: contents.mainFrame };
  return { ipcMain, contents, service, calls, binding, log, fromApp, dropTarget: () => (target = undefined) };
}

const START = { id: 1, call: 'start', input: { targetMa: 5 } };

describe('sender validation', () => {
  it('dispatches a call from the app main frame', async () => {
    const { ipcMain, calls, fromApp, binding } = setup();
    const result = await ipcMain.invoke(IPC_CALL_CHANNEL, fromApp, START);
    expect(result).toEqual({ ok: true, data: null });
    expect(calls).toEqual([{ call: 'start', input: { targetMa: 5 } }]);
    expect(binding.refused()).toBe(0);
  });

  it('accepts the app page with a fragment (client-side routes)', async () => {
    const { ipcMain, contents, calls } = setup();
    const result = await ipcMain.invoke(IPC_CALL_CHANNEL, { sender: contents, senderFrame: contents.frame(`${APP_URL}#/history`) }, START);
    expect(result).toEqual({ ok: true, data: null });
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['a child frame of our page', (c: FakeWebContents) => ({ sender: c, senderFrame: c.frame(APP_URL, c.mainFrame) }), 'sender is not the main frame'],
    ['a cross-origin iframe', (c: FakeWebContents) => ({ sender: c, senderFrame: c.frame('https://evil.example/', c.mainFrame) }), 'sender is not the main frame'],
    ['another webContents', () => ({ sender: new FakeWebContents(), senderFrame: new FakeFrame(APP_URL) }), 'sender is not the app window'],
    ['our main frame showing another page', (c: FakeWebContents) => ({ sender: c, senderFrame: new FakeFrame('https://evil.example/', null, c.mainFrame.processId, c.mainFrame.routingId) }), 'does not show the app page'],
    ['our main frame showing another file', (c: FakeWebContents) => ({ sender: c, senderFrame: c.frame('file:///tmp/evil.html') }), 'does not show the app page'],
    ['a top frame of another process', (c: FakeWebContents) => ({ sender: c, senderFrame: new FakeFrame(APP_URL, null, 99, 1) }), 'sender is not the main frame'],
    ['a destroyed frame', (c: FakeWebContents) => ({ sender: c, senderFrame: null }), 'sender frame is gone'],
  ])('refuses and counts a call from %s', async (_name, from, reason) => {
    const { ipcMain, contents, calls, binding, log } = setup();
    const result = (await ipcMain.invoke(IPC_CALL_CHANNEL, from(contents), START)) as Result<unknown>;
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain(reason);
    expect(calls).toEqual([]);
    expect(binding.refused()).toBe(1);
    expect(log.lines.join('\n')).toContain('IPC refused');
  });

  it('refuses everything once the window is gone', async () => {
    const { ipcMain, calls, binding, fromApp, dropTarget, contents } = setup();
    contents.destroyed = true;
    await ipcMain.invoke(IPC_CALL_CHANNEL, fromApp, START);
    dropTarget();
    await ipcMain.invoke(IPC_CALL_CHANNEL, fromApp, START);
    expect(calls).toEqual([]);
    expect(binding.refused()).toBe(2);
  });

  it('checkSender reports why', () => {
    const contents = new FakeWebContents();
    expect(checkSender({ sender: contents, senderFrame: contents.mainFrame }, contents, APP_URL)).toEqual({ ok: true });
    expect(checkSender({ sender: contents, senderFrame: contents.mainFrame }, undefined, APP_URL)).toEqual({ ok: false, reason: 'no app window' });
  });
});

describe('payload validation', () => {
  const MALFORMED: [string, unknown[]][] = [
    ['no message', []],
    ['two messages', [START, START]],
    ['undefined', [undefined]],
    ['null', [null]],
    ['a string', ['start']],
    ['an array', [[1, 'start', {}]]],
    ['a negative id', [{ id: -1, call: 'start', input: { targetMa: 5 } }]],
    ['an unknown call', [{ id: 2, call: 'exec', input: {} }]],
    ['a prototype key as call', [{ id: 2, call: '__proto__', input: {} }]],
    ['an extra field', [{ id: 2, call: 'pause', input: {}, sudo: true }]],
    ['an amplitude above the limit', [{ id: 3, call: 'start', input: { targetMa: 99 } }]],
    ['a titration step not allowed', [{ id: 4, call: 'titrate', input: { deltaMa: 5 } }]],
    ['a wrong type', [{ id: 5, call: 'connect', input: { path: 42 } }]],
    ['an unknown input field', [{ id: 6, call: 'pause', input: { force: true } }]],
    ['an e-stop source not in the contract', [{ id: 7, call: 'estop', input: { source: 'renderer' } }]],
  ];

  it.each(MALFORMED)('answers BAD_INPUT to %s, without calling the service', async (_name, args) => {
    const { ipcMain, calls, fromApp } = setup();
    const answer = ipcMain.invoke(IPC_CALL_CHANNEL, fromApp, ...args);
    await expect(answer).resolves.toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(calls).toEqual([]);
  });

  it('answers INTERNAL if the dispatcher ever rejects (it must not), never throwing into Electron', async () => {
    const { ipcMain, fromApp, log } = setup({ dispatch: vi.fn(() => Promise.reject(new Error('boom'))) });
    await expect(ipcMain.invoke(IPC_CALL_CHANNEL, fromApp, START)).resolves.toMatchObject({ ok: false, error: { code: 'INTERNAL', message: 'boom' } });
    expect(log.lines).toContain('error: dispatch threw: boom');
  });

  it('gives the renderer the result, not the wire reply', async () => {
    const dispatch = vi.fn<Dispatch>(() => Promise.resolve({ id: 9, result: { ok: true, data: { targetMa: 4.5 } } }));
    const { ipcMain, fromApp } = setup({ dispatch });
    await expect(ipcMain.invoke(IPC_CALL_CHANNEL, fromApp, { id: 9, call: 'titrate', input: { deltaMa: 0.5 } })).resolves.toEqual({ ok: true, data: { targetMa: 4.5 } });
    expect(dispatch).toHaveBeenCalledWith({ id: 9, call: 'titrate', input: { deltaMa: 0.5 } });
  });
});

describe('events', () => {
  it('pushes every service event to our window as {event, data}', () => {
    const { service, contents } = setup();
    service.emit({ event: 'telemetry', data: { channel: 1 } });
    service.emit({ event: 'snapshot', data: { state: 'idle' } });
    expect(contents.sent).toEqual([
      { channel: IPC_EVENT_CHANNEL, args: [{ event: 'telemetry', data: { channel: 1 } }] },
      { channel: IPC_EVENT_CHANNEL, args: [{ event: 'snapshot', data: { state: 'idle' } }] },
    ]);
  });

  it('drops events while there is no live window, and survives a send that throws', () => {
    const { service, contents, dropTarget, log } = setup();
    contents.destroyed = true;
    service.emit({ event: 'snapshot', data: {} });
    contents.destroyed = false;
    contents.send = () => {
      throw new Error('Render frame was disposed');
    };
    expect(() => service.emit({ event: 'snapshot', data: {} })).not.toThrow();
    dropTarget();
    service.emit({ event: 'snapshot', data: {} });
    expect(log.lines.join('\n')).toContain('could not push snapshot');
  });

  it('dispose removes the handler and the subscription (idempotent)', () => {
    const { ipcMain, service, binding } = setup();
    expect(ipcMain.handlers.has(IPC_CALL_CHANNEL)).toBe(true);
    expect(service.listenerCount()).toBe(1);
    binding.dispose();
    binding.dispose();
    expect(ipcMain.handlers.size).toBe(0);
    expect(service.listenerCount()).toBe(0);
  });
});
