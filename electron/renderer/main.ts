/**
 * The renderer's entry point. In Electron the preload exposes the contract as `window.edn`; in a
 * browser served by `edn web` the same contract runs over a WebSocket (api-ws.ts). Either way the
 * UI sees one EdnApi and nothing else of the core.
 */
import './styles.css';
import 'uplot/dist/uPlot.min.css';
import type { EdnApi } from '../../src/app/contract.js';
import { App } from './app.js';
import { AppContext } from './context.js';
import { connectWebSocket, socketUrl } from './api-ws.js';
import { h, replaceChildren } from './dom.js';

declare global {
  interface Window {
    /** Set by the Electron preload. */
    readonly edn?: EdnApi;
  }
}

function start(): void {
  const root = document.getElementById('app');
  if (!root) return;
  if (window.edn) {
    const ctx = new AppContext(window.edn);
    new App(root, ctx, { hostLabel: 'Desktop' });
    void ctx.refreshSnapshot();
    void ctx.refreshProtocols();
    return;
  }
  const url = socketUrl(window.location);
  if (!url) {
    replaceChildren(
      root,
      h('main', { class: 'fatal' }, h('h1', {}, 'EDN Controller'), h('p', {}, 'This page needs its access token. Open the full address that `edn web` printed (it ends in ?token=…).')),
    );
    return;
  }
  const ws = connectWebSocket(url);
  const ctx = new AppContext(ws.api);
  const app = new App(root, ctx, { hostLabel: 'Browser training host' });
  app.setConnection(ws.state);
  ws.onConnection((state, detail) => {
    app.setConnection(state, detail);
    if (state === 'open') {
      void ctx.refreshSnapshot();
      void ctx.refreshProtocols();
    }
  });
  window.addEventListener('pagehide', () => ws.close());
}

start();
