/**
 * `npm start` (electron/start.js runs this in plain Node, not in Electron):
 *   1. bundle the renderer (out/renderer), the preload (out/preload/preload.cjs) and the main
 *      process (out/main/main.cjs) with esbuild;
 *   2. make sure the Electron binary is present: `npm ci` runs no install scripts here (.npmrc),
 *      so on first use run electron's own `install.js`, which downloads it; without internet,
 *      say so and point to `npm run web`;
 *      (with `--build-only`, stop after step 1: electron-builder packs out/);
 *   3. run Electron on the app directory (package.json "main" is electron/main/entry.cjs, which
 *      requires out/main/main.cjs), passing signals through and returning its exit code.
 *
 * Every side effect is an injected function, so the decisions are unit-tested without
 * downloading or spawning anything; {@link nodeLauncherDeps} gives the real ones.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { APP_LAYOUT } from './layout.js';

export interface InstallOutcome {
  readonly ok: boolean;
  /** What the installer printed (its last lines explain a failure). */
  readonly output: string;
}

export interface LauncherDeps {
  /** Builds every bundle the app loads (renderer, preload, main). */
  readonly build: () => Promise<void>;
  /** The Electron executable when installed, else undefined. */
  readonly electronBinary: () => string | undefined;
  /** Runs node_modules/electron/install.js (downloads the binary). */
  readonly installElectron: () => Promise<InstallOutcome>;
  /** Runs Electron with these arguments; resolves to its exit code. */
  readonly runElectron: (binary: string, args: readonly string[]) => Promise<number>;
  /** The app directory given to Electron (the repository root). */
  readonly appDir: string;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** Exit code when Electron could not be made available. */
export const EXIT_NO_ELECTRON = 3;
/** Exit code when bundling failed. */
export const EXIT_BUILD_FAILED = 2;

/** The last `n` lines of what the installer printed that say something (stack frames left out). */
function lastLines(text: string, n: number): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0 && !/^\s*at\s/.test(l));
  return lines.slice(-n).join('\n');
}

/** The explanation printed when the binary is missing and could not be downloaded. */
export function noElectronMessage(outcome: InstallOutcome): string {
  const reason = lastLines(outcome.output, 6);
  return [
    'npm start: the Electron binary is not installed (node_modules/electron/dist is missing), and downloading it failed.',
    ...(reason ? ['', reason.replace(/^/gm, '    ')] : []),
    '',
    'Electron fetches its binary on first use, which needs internet access (`npm ci` runs no install',
    'scripts in this project, see .npmrc). When you are online, run `npm start` again, or fetch it',
    'yourself with: node node_modules/electron/install.js',
    '',
    'Without internet, the same app runs in your browser on this machine:',
    '',
    '    npm run web',
    '',
  ].join('\n');
}

/** `node electron/start.js --build-only`: write the bundles to out/ (for electron-builder) and stop. */
export const BUILD_ONLY = '--build-only';

export async function launch(argv: readonly string[], deps: LauncherDeps): Promise<number> {
  try {
    await deps.build();
  } catch (e) {
    deps.err(`npm start: bundling the app failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_BUILD_FAILED;
  }
  if (argv.includes(BUILD_ONLY)) {
    deps.out('npm start: bundles written to out/ (renderer, preload, main)\n');
    return 0;
  }

  let binary = deps.electronBinary();
  if (binary === undefined) {
    deps.out('npm start: the Electron binary is not installed yet; downloading it (once) with node_modules/electron/install.js ...\n');
    const outcome = await deps.installElectron();
    binary = outcome.ok ? deps.electronBinary() : undefined;
    if (binary === undefined) {
      deps.err(noElectronMessage(outcome.ok ? { ok: false, output: `${outcome.output}\ninstall.js finished but no binary is in node_modules/electron/dist` } : outcome));
      return EXIT_NO_ELECTRON;
    }
  }
  return deps.runElectron(binary, [deps.appDir, ...argv]);
}

// ---- the real side effects ---------------------------------------------------------------------------

/**
 * The Electron executable named by node_modules/electron/path.txt under dist/, if it exists (the
 * same lookup as the electron package's index.js, without throwing).
 */
export function findElectronBinary(
  electronDir: string,
  io: { exists?: (p: string) => boolean; read?: (p: string) => string; overrideDist?: string | undefined } = {},
): string | undefined {
  const exists = io.exists ?? existsSync;
  const read = io.read ?? ((p: string) => readFileSync(p, 'utf8'));
  let relative: string;
  try {
    relative = read(path.join(electronDir, 'path.txt')).trim();
  } catch {
    return undefined;
  }
  if (!relative) return undefined;
  const binary = io.overrideDist ? path.join(io.overrideDist, relative) : path.join(electronDir, 'dist', relative);
  return exists(binary) ? binary : undefined;
}

/** esbuild options for the four bundles (exported for the tests). */
export function bundleOptions(root: string) {
  const at = (parts: readonly string[]) => path.join(root, ...parts);
  return {
    renderer: {
      entryPoints: [path.join(root, 'electron', 'renderer', 'main.ts')],
      outdir: at(APP_LAYOUT.rendererDir),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'chrome130',
      sourcemap: true,
      logLevel: 'warning',
    },
    preload: {
      entryPoints: [path.join(root, 'electron', 'preload', 'index.ts')],
      outfile: at(APP_LAYOUT.preload),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node22',
      external: ['electron'],
      sourcemap: false,
      logLevel: 'warning',
    },
    main: {
      entryPoints: [path.join(root, 'electron', 'main', 'main.ts')],
      outfile: at(APP_LAYOUT.main),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node22',
      // Electron is the runtime; serialport has native bindings and is packed as a dependency.
      external: ['electron', 'serialport', '@serialport/*'],
      sourcemap: true,
      logLevel: 'warning',
    },
    // The ControllerService's process (a utilityProcess of main, VS Code's pattern: the session
    // core shares no event loop with the windows). node-sqlite3-wasm loads its .wasm from beside
    // itself, so it stays a package.
    controller: {
      entryPoints: [path.join(root, 'src', 'app', 'worker-entry.ts')],
      outfile: at(APP_LAYOUT.controller),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node22',
      external: ['electron', 'serialport', '@serialport/*', 'node-sqlite3-wasm'],
      sourcemap: true,
      logLevel: 'warning',
    },
  } as const;
}

/** The renderer's static files (index.html and style sheets), copied beside its bundle. */
async function copyRendererStatic(root: string): Promise<void> {
  const from = path.join(root, 'electron', 'renderer');
  const to = path.join(root, ...APP_LAYOUT.rendererDir);
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    if (name === 'index.html' || name.endsWith('.css')) await copyFile(path.join(from, name), path.join(to, name));
  }
}

/**
 * Builds the three bundles with esbuild. `bundleRenderer`, when given, replaces the built-in
 * renderer build (the web host's bundler, src/web/bundle.ts, so both hosts serve the same files).
 */
export async function buildApp(root: string, bundleRenderer?: (outDir: string) => Promise<unknown>): Promise<void> {
  const esbuild = await import('esbuild');
  const options = bundleOptions(root);
  if (bundleRenderer) {
    await bundleRenderer(path.join(root, ...APP_LAYOUT.rendererDir));
  } else {
    await esbuild.build({ ...options.renderer, entryPoints: [...options.renderer.entryPoints] });
    await copyRendererStatic(root);
  }
  await esbuild.build({ ...options.preload, entryPoints: [...options.preload.entryPoints], external: [...options.preload.external] });
  await esbuild.build({ ...options.main, entryPoints: [...options.main.entryPoints], external: [...options.main.external] });
  await esbuild.build({ ...options.controller, entryPoints: [...options.controller.entryPoints], external: [...options.controller.external] });
}

function spawnCollect(command: string, args: readonly string[], cwd: string): Promise<InstallOutcome> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (e) => resolve({ ok: false, output: `${output}\n${e.message}` }));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
  });
}

/** Runs Electron like the electron package's cli.js: inherited stdio, signals passed on. */
function runElectron(binary: string, args: readonly string[], cwd: string, err: (text: string) => void): Promise<number> {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // set, Electron would run as plain Node
  return new Promise((resolve) => {
    const child = spawn(binary, [...args], { cwd, stdio: 'inherit', env, windowsHide: false });
    const signals = ['SIGINT', 'SIGTERM'] as const;
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const s of signals) process.on(s, forward);
    const done = (code: number) => {
      for (const s of signals) process.off(s, forward);
      resolve(code);
    };
    child.on('error', (e) => {
      err(`npm start: could not run Electron (${binary}): ${e.message}\n`);
      done(1);
    });
    child.on('close', (code, signal) => {
      if (code === null) err(`npm start: Electron exited on ${signal ?? 'a signal'}\n`);
      done(code ?? 1);
    });
  });
}

/** The real launcher dependencies for the repository at `root`. */
export function nodeLauncherDeps(root: string, options: { bundleRenderer?: (outDir: string) => Promise<unknown> } = {}): LauncherDeps {
  const electronDir = path.join(root, 'node_modules', 'electron');
  const err = (text: string) => void process.stderr.write(text);
  return {
    appDir: root,
    build: () => buildApp(root, options.bundleRenderer),
    electronBinary: () => findElectronBinary(electronDir, { overrideDist: process.env.ELECTRON_OVERRIDE_DIST_PATH }),
    installElectron: () => spawnCollect(process.execPath, [path.join(electronDir, 'install.js')], root),
    runElectron: (binary, args) => runElectron(binary, args, root, err),
    out: (text) => void process.stdout.write(text),
    err,
  };
}
