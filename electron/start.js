#!/usr/bin/env node
// `npm start`: bundles the renderer, the preload and the main process into out/, makes sure the
// Electron binary is present (downloading it on first use; `npm ci` runs no install scripts here)
// and runs the app. The logic is TypeScript (electron/main/launcher.ts), run through tsx like the
// `edn` CLI. Without internet the Electron binary cannot be fetched: `npm run web` runs the same
// UI in a browser.
import path from 'node:path';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(import.meta.dirname, '..');
const { launch, nodeLauncherDeps } = await import('./main/launcher.ts');
process.exitCode = await launch(process.argv.slice(2), nodeLauncherDeps(root));
