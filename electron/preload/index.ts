/**
 * The preload of the app window (bundled by `npm start` to out/preload/preload.cjs). It runs
 * sandboxed and context-isolated: it exposes `window.edn` (see api.ts) and nothing else.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { installPreload } from './api.js';

installPreload({ contextBridge, ipcRenderer });
