// The Electron shell applies the browser host's rule to its renderer (issue 9 item 3): the window's
// page is pinged over IPC and answers with `heartbeat`; a page that stops answering while output is
// on is e-stopped UI_LIVENESS_MS after its last answer, long before Chromium's 'unresponsive'.
// Electron's objects are faked (fakes.ts); time is virtual.
import { describe, expect, it } from 'vitest';
import { type ControlView, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from '../../../src/app/contract.js';
import { UI_LIVENESS_MS, UI_PING_MS } from '../../../src/app/ui-timing.js';
import { startApp } from '../../../electron/main/app.js';
import type { Dispatch } from '../../../electron/main/ipc.js';
import { ManualScheduler } from '../../support/virtual-time.js';
import { FakeApp, FakeDialog, FakeIpcMain, FakeService, FakeSession, FakeWindow, memoryLog, settle } from './fakes.js';

async function running() {
  const scheduler = new ManualScheduler();
  const app = new FakeApp();
  const ipcMain = new FakeIpcMain();
  const service = new FakeService();
  const log = memoryLog();
  const reached: string[] = [];
  const dispatch: Dispatch = (message) => {
    reached.push((message as { call: string }).call);
    return Promise.resolve({ result: { ok: true, data: null } });
  };
  const started = startApp<FakeWindow, FakeService>({
    app,
    session: () => new FakeSession(),
    ipcMain,
    dialog: new FakeDialog(),
    BrowserWindow: FakeWindow,
    createService: () => service,
    createDispatch: () => dispatch,
    scheduler,
    log,
  });
  app.becomeReady();
  const r = (await started)!;
  const contents = r.main.window.webContents;
  const from = { sender: contents, senderFrame: contents.mainFrame };
  let seq = 0;
  const invoke = (call: string, input: unknown = {}) => ipcMain.invoke(IPC_CALL_CHANNEL, from, { id: ++seq, call, input });

  // The page: answers every ping at once while its code runs.
  const page = { alive: true, pings: 0, lastAnswerAt: -1 };
  const send = contents.send.bind(contents);
  contents.send = (channel: string, ...args: unknown[]) => {
    send(channel, ...args);
    const e = args[0] as { event: string; data: { seq: number } };
    if (channel !== IPC_EVENT_CHANNEL || e.event !== 'ping') return;
    page.pings += 1;
    if (!page.alive) return;
    page.lastAnswerAt = scheduler.now();
    void invoke('heartbeat', { seq: e.data.seq });
  };
  const controls = () => contents.sent.filter((s) => (s.args[0] as { event: string }).event === 'control').map((s) => (s.args[0] as { data: ControlView }).data);
  const state = (s: string) => service.emit({ event: 'snapshot', data: { state: s } });
  return { scheduler, service, contents, invoke, page, controls, state, reached, log, running: r };
}

describe('Electron: the renderer must show signs of life while output is on', () => {
  it('a page that answers its pings runs on; a frozen one is e-stopped UI_LIVENESS_MS after its last answer', async () => {
    const { scheduler, service, invoke, page, controls, state, reached, log } = await running();
    expect(controls().at(-1)).toMatchObject({ role: 'free', label: 'the app window', others: 0 });
    state('ready');
    await invoke('submitScreening', {});
    state('screening');
    state('checking-electrodes');
    await invoke('start', { targetMa: 1 });
    service.outputOn = true;
    state('ramping');
    state('running');
    expect(reached).toEqual(['submitScreening', 'start']);
    expect(controls().at(-1)).toMatchObject({ role: 'controller' });

    scheduler.advance(60_000);
    await settle();
    expect(page.pings).toBe(60_000 / UI_PING_MS);
    expect(service.estops).toEqual([]);
    // heartbeat is answered by the control, never by the service
    expect(reached).toEqual(['submitScreening', 'start']);

    page.alive = false;
    const last = page.lastAnswerAt;
    scheduler.advanceTo(last + UI_LIVENESS_MS - 1);
    expect(service.estops).toEqual([]);
    scheduler.advance(1);
    expect(service.estops).toEqual(['ui-unresponsive']);
    expect(log.lines).toContain(`warn: the app window, which controls the session, gave no sign of life for ${UI_LIVENESS_MS} ms with output on: emergency stop`);
  });

  it('with output off a silent page is left alone; quitting stops the pings', async () => {
    const { scheduler, service, invoke, page, state, running: r } = await running();
    page.alive = false;
    state('ready');
    await invoke('submitScreening', {});
    state('screening');
    scheduler.advance(60_000);
    expect(service.estops).toEqual([]);
    expect(page.pings).toBeGreaterThan(0);
    r.control.dispose();
    const pings = page.pings;
    scheduler.advance(10_000);
    expect(page.pings).toBe(pings);
  });
});
