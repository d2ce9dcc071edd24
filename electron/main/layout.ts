/**
 * Where `npm start` (electron/start.js) puts the bundles, relative to the app directory (the
 * repository root in development, app.asar when packaged). Shared by the launcher, which writes
 * them, and by main, which loads them; electron-builder.yml packs the same `out/` directory.
 */
export const APP_LAYOUT = {
  /** Everything generated: packed by electron-builder, ignored by git. */
  outDir: ['out'],
  /** The main-process bundle that electron/main/entry.cjs (package.json "main") requires. */
  main: ['out', 'main', 'main.cjs'],
  /** The controller's bundle (src/app/worker-entry.ts), run by main in an Electron utilityProcess. */
  controller: ['out', 'main', 'controller.cjs'],
  /** The sandboxed preload: one CommonJS file (a sandboxed preload cannot require app files). */
  preload: ['out', 'preload', 'preload.cjs'],
  /** The renderer bundle directory and its page. */
  rendererDir: ['out', 'renderer'],
  rendererIndex: ['out', 'renderer', 'index.html'],
} as const;
