// How `edn` starts quickly without a build step. Plain JavaScript: it runs before anything is
// compiled.
//
// The CLI is TypeScript. Compiling it at every start (tsx) costs about 1 s of CPU; instead the
// first run bundles src/cli/main.ts with esbuild into one CommonJS file in
// node_modules/.cache/edn-cli/ and every later run loads that file. So `npx edn` still works
// right after `npm ci`, with nothing to remember.
//
// - The cache is keyed by a fingerprint of everything the bundle was built from: the content of
//   every project file esbuild read (hashed as the plugin below hands it to esbuild, so what is
//   hashed is exactly what was compiled), the names of the files in each project directory it
//   read from (a new file could change what an import resolves to), the package.json of every
//   bundled package, tsconfig.json, package.json, this file, the esbuild version and the
//   checkout's path. Every start recomputes the fingerprint from the files on disk and runs the
//   bundle only when it matches: a stale bundle never runs, and any change to a source rebuilds.
// - npm packages are bundled too (tree-shaken): loading rxjs or zod file by file through require()
//   costs more than all the rest of a start. A bundled package is fingerprinted by its
//   package.json (its version: npm rewrites it with every install or update); a file edited by
//   hand inside node_modules is not noticed (delete node_modules/.cache/edn-cli). The packages
//   that find files beside themselves at run time (esbuild's binary, serialport's native addon) or
//   are optional (ws's bufferutil) stay in node_modules, and the two that are slow to load and
//   rarely needed (esbuild, serialport) are loaded on first use, not at start.
// - The subcommands themselves are import()ed by src/cli/main.ts's command table, and esbuild
//   turns each such import into a module initialised on first use: `edn --help` runs the table
//   and nothing else (loading every command at start was over half of a warm `edn --help`).
// - Writes are atomic: the bundle, its V8 code cache and the manifest are written to temporary
//   files and renamed, and the bundle's name carries its fingerprint, so a process never reads a
//   half-written file and a manifest always names a bundle built from what it lists. One process
//   builds at a time (an O_EXCL lock file holding its pid); another that finds no valid bundle
//   meanwhile runs through tsx, as every start did before.
// - Anything that goes wrong on the way (a read-only node_modules, a failed build) falls back to
//   tsx, which also reports a compile error the way it always has. EDN_CLI_CACHE=off forces tsx;
//   EDN_CLI_CACHE_DIR moves the cache.
//
// `import.meta.url` (and .dirname, .filename) in a project file is replaced by that file's own
// location, so code that finds files beside itself (src/web/bundle.ts) works from the bundle.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

/** The manifest's format. */
const MANIFEST_VERSION = 1;
const SELF = fileURLToPath(import.meta.url);
export const REPO_ROOT = path.resolve(path.dirname(SELF), '../..');
/** npm packages loaded from node_modules rather than bundled (see above). */
// node-sqlite3-wasm loads its .wasm file from beside its own module: it must stay a package.
const EXTERNAL_PACKAGES = ['esbuild', 'serialport', '@serialport/bindings-cpp', 'bufferutil', 'utf-8-validate', 'tsx', 'electron', 'playwright-core', 'node-sqlite3-wasm'];
/**
 * External packages loaded on first use rather than at start: together about a fifth of a warm
 * start (esbuild only bundles the web UI; serialport loads its native addon as it loads, and is
 * needed only to open or list ports), and `edn --help` needs neither.
 */
const LAZY_PACKAGES = ['esbuild', 'serialport', 'node-sqlite3-wasm'];
/** Bundles other than the current one are removed once this old (a process may still load one). */
const OLD_BUNDLE_MS = 3_600_000;

/**
 * @typedef {{ file: string, hash: string }} Input   a file relative to the root, and its sha256
 * @typedef {{ version: number, fingerprint: string, bundle: string, inputs: Input[], dirs: string[] }} Manifest
 * @typedef {{ root?: string, entry?: string, dir?: string }} Where   the checkout, the entry (relative to it), the cache
 * @typedef {(argv: readonly string[]) => Promise<number>} Main
 */

/** The cache directory: EDN_CLI_CACHE_DIR, else node_modules/.cache/edn-cli of the checkout. */
export function cacheDir(root = REPO_ROOT) {
  const dir = process.env.EDN_CLI_CACHE_DIR;
  return dir ? path.resolve(dir) : path.join(root, 'node_modules/.cache/edn-cli');
}

/** @param {Where} where */
function resolved(where) {
  const root = path.resolve(where.root ?? REPO_ROOT);
  return { root, entry: path.join(root, where.entry ?? 'src/cli/main.ts'), dir: where.dir ?? cacheDir(root) };
}

/** @param {string | Uint8Array} data */
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/**
 * The fingerprint of a build from its inputs, as the files are now.
 * @param {string} root
 * @param {readonly Input[]} inputs
 * @param {readonly string[]} dirs
 * @param {string} esbuildVersion
 */
export function fingerprint(root, inputs, dirs, esbuildVersion) {
  const h = createHash('sha256');
  h.update(`edn-cli ${MANIFEST_VERSION}\0esbuild ${esbuildVersion}\0${root}\0launch ${sha256(readFileSync(SELF))}\0`);
  for (const name of ['tsconfig.json', 'package.json']) {
    let content = '';
    try {
      content = sha256(readFileSync(path.join(root, name)));
    } catch {
      // absent: that too is part of what was built from
    }
    h.update(`${name}\0${content}\0`);
  }
  for (const i of inputs) h.update(`${i.file}\0${i.hash}\0`);
  for (const d of dirs) h.update(`${d}/\0${readdirSync(path.join(root, d)).sort().join('\0')}\0`);
  return h.digest('hex');
}

/** The installed esbuild's version, from its package.json (loading esbuild is needed only to build). */
function esbuildVersion() {
  const require = createRequire(SELF);
  return /** @type {{ version: string }} */ (JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8'))).version;
}

/**
 * The cached bundle's path when it is valid for the files as they are now, else undefined.
 * @param {Where} [where]
 */
export function validBundle(where = {}) {
  const { root, dir } = resolved(where);
  /** @type {Manifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    if (manifest.version !== MANIFEST_VERSION || !Array.isArray(manifest.inputs) || !Array.isArray(manifest.dirs)) return undefined;
    if (typeof manifest.bundle !== 'string' || !/^cli-[0-9a-f]{16}\.cjs$/.test(manifest.bundle)) return undefined; // only a bundle of ours, in dir
    const inputs = manifest.inputs.map((i) => ({ file: i.file, hash: sha256(readFileSync(path.join(root, i.file))) }));
    if (fingerprint(root, inputs, manifest.dirs, esbuildVersion()) !== manifest.fingerprint) return undefined;
    const bundle = path.join(dir, manifest.bundle);
    statSync(bundle);
    return bundle;
  } catch {
    return undefined; // no manifest, a file gone, no bundle: not valid
  }
}

/** @param {string} file  @param {string | Uint8Array} data */
function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM';
  }
}

/**
 * Takes the build lock: a release function, or undefined when a live process holds it. A lock
 * whose process is gone (killed while building) is taken over.
 * @param {string} dir
 */
export function lockBuild(dir) {
  const file = path.join(dir, 'build.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    } catch {
      continue; // released meanwhile: try again
    }
    // An empty lock is one being written this instant: its writer is alive.
    if (!Number.isInteger(holder) || alive(holder)) return undefined;
    rmSync(file, { force: true });
  }
  return undefined;
}

/**
 * The directory of the npm package a file belongs to (the innermost node_modules/name or
 * node_modules/@scope/name), or undefined for a project file.
 * @param {string} file  an absolute path
 */
function packageRoot(file) {
  const parts = file.split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const scoped = parts[at + 1]?.startsWith('@') ? 2 : 1;
  return parts.slice(0, at + 1 + scoped).join(path.sep);
}

/**
 * Builds the bundle and its manifest; returns the bundle's path.
 * @param {typeof import('esbuild')} esbuild
 * @param {Where} [where]
 */
export async function buildBundle(esbuild, where = {}) {
  const { root, entry, dir } = resolved(where);
  /** @type {Map<string, string>} absolute path -> sha256 */
  const hashes = new Map();
  /** @param {string} manifest */
  const hashPackage = (manifest) => {
    if (!hashes.has(manifest)) hashes.set(manifest, sha256(readFileSync(manifest)));
  };
  const requireThere = createRequire(path.join(root, 'package.json'));
  /** @type {import('esbuild').Plugin} */
  const lazy = {
    name: 'edn-lazy-packages',
    setup(build) {
      const filter = new RegExp(`^(?:${LAZY_PACKAGES.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})$`);
      // Inside the stand-in the package itself is external: it is require()d at first use.
      build.onResolve({ filter }, (args) => (args.namespace === 'edn-lazy' ? { path: args.path, external: true } : { path: args.path, namespace: 'edn-lazy' }));
      build.onLoad({ filter: /.*/, namespace: 'edn-lazy' }, (args) => {
        hashPackage(requireThere.resolve(`${args.path}/package.json`)); // its export names are read here
        const keys = Object.keys(requireThere(args.path));
        const lines = [
          'let loaded;',
          `const load = () => (loaded ??= require(${JSON.stringify(args.path)}));`,
          ...keys.map((k) => `Object.defineProperty(module.exports, ${JSON.stringify(k)}, { enumerable: true, get: () => load()[${JSON.stringify(k)}] });`),
        ];
        return { contents: lines.join('\n'), loader: 'js' };
      });
    },
  };
  /** @type {import('esbuild').Plugin} */
  const sources = {
    name: 'edn-sources',
    setup(build) {
      build.onLoad({ filter: /\.(?:[cm]?[jt]s|json)$/ }, (args) => {
        const pkg = packageRoot(args.path);
        if (pkg) {
          hashPackage(path.join(pkg, 'package.json'));
          return undefined; // esbuild loads it as usual
        }
        const bytes = readFileSync(args.path);
        hashes.set(args.path, sha256(bytes));
        const ext = path.extname(args.path);
        if (ext === '.json') return { contents: bytes, loader: 'json' };
        const text = bytes
          .toString('utf8')
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(path.dirname(args.path)))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
        return { contents: text, loader: ext.endsWith('ts') ? 'ts' : 'js' };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    external: EXTERNAL_PACKAGES.flatMap((p) => [p, `${p}/*`]),
    plugins: [lazy, sources],
    write: false,
    sourcemap: 'external',
    sourcesContent: false,
    outfile: path.join(dir, 'cli.cjs'),
    logLevel: 'silent',
  });
  const inputs = [...hashes]
    .map(([abs, hash]) => ({ file: path.relative(root, abs).split(path.sep).join('/'), hash }))
    .sort((a, b) => (a.file < b.file ? -1 : 1));
  const dirs = [...new Set(inputs.filter((i) => !i.file.split('/').includes('node_modules')).map((i) => path.posix.dirname(i.file)))].sort();
  const print = fingerprint(root, inputs, dirs, esbuild.version);
  const name = `cli-${print.slice(0, 16)}.cjs`;
  const code = result.outputFiles.find((f) => f.path.endsWith('.cjs'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!code) throw new Error('esbuild produced no bundle');
  mkdirSync(dir, { recursive: true });
  if (map) writeAtomically(path.join(dir, `${name}.map`), map.contents);
  writeAtomically(path.join(dir, name), code.text.replace(/\/\/# sourceMappingURL=\S+\s*$/, `//# sourceMappingURL=${name}.map\n`));
  /** @type {Manifest} */
  const manifest = { version: MANIFEST_VERSION, fingerprint: print, bundle: name, inputs, dirs };
  writeAtomically(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  removeOldBundles(dir, name);
  return path.join(dir, name);
}

/**
 * Removes other bundles (with their maps and code caches) and temporary files left by a process
 * killed while writing, once they are old enough that no process can still be reading them.
 * @param {string} dir  @param {string} keep
 */
function removeOldBundles(dir, keep) {
  for (const f of readdirSync(dir)) {
    const leftover = f.endsWith('.tmp');
    if (!leftover && (!/^cli-[0-9a-f]+\.cjs/.test(f) || f.startsWith(keep))) continue;
    try {
      if (Date.now() - statSync(path.join(dir, f)).mtimeMs > OLD_BUNDLE_MS) rmSync(path.join(dir, f), { force: true });
    } catch {
      // gone already
    }
  }
}

/**
 * The path of a bundle valid for the files as they are, building it when there is none (and no
 * other process is building one); undefined when tsx should run the sources instead.
 * @param {Where} [where]
 */
export async function bundledCli(where = {}) {
  const valid = validBundle(where);
  if (valid) return valid;
  const { dir } = resolved(where);
  mkdirSync(dir, { recursive: true });
  const release = lockBuild(dir);
  if (!release) return undefined;
  /** @type {typeof import('esbuild')} */
  const esbuild = createRequire(SELF)('esbuild');
  try {
    return validBundle(where) ?? (await buildBundle(esbuild, where));
  } finally {
    release();
    await esbuild.stop();
  }
}

/**
 * Loads the CommonJS bundle as require() would, with V8's code cache: compiling the bundle is a
 * good part of a warm start, and the cache (beside the bundle, per V8 version) skips it. Node 22
 * has this built in (module.enableCompileCache); Node 20 does not, and the v8-compile-cache
 * package hooks every require() of the process and keeps its files in a fixed directory under
 * /tmp. Packages the bundle leaves in node_modules are required from the checkout (the cache may
 * be elsewhere).
 * @param {string} bundle
 * @param {string} [root]
 * @returns {{ main: Main }}
 */
export function loadBundle(bundle, root = REPO_ROOT) {
  const cacheFile = `${bundle}.${process.versions.v8}-${process.arch}.v8cache`;
  /** @type {Buffer | undefined} */
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(readFileSync(bundle, 'utf8')), {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: /** @type {{ main?: Main }} */ ({}) };
  script.runInThisContext().call(module.exports, module.exports, createRequire(path.join(root, 'package.json')), module, bundle, path.dirname(bundle));
  const main = module.exports.main;
  if (typeof main !== 'function') throw new Error(`${bundle} exports no main()`);
  if (!cachedData || script.cachedDataRejected === true) {
    try {
      writeAtomically(cacheFile, script.createCachedData());
    } catch {
      // a cache that cannot be written costs the next start time, nothing else
    }
  }
  return { main };
}

/**
 * Runs `edn` with these arguments: from the cached bundle when it can, else through tsx.
 * @param {readonly string[]} argv
 * @returns {Promise<number>} the exit code
 */
export async function launch(argv) {
  /** @type {Main | undefined} */
  let main;
  if (process.env.EDN_CLI_CACHE !== 'off') {
    /** @type {string | undefined} */
    let bundle;
    try {
      bundle = await bundledCli();
      if (bundle) main = loadBundle(bundle).main;
    } catch (err) {
      // A failed build: tsx below reports a compile error as it always has. A bundle that built
      // but does not load is a fault of the bundling, which tsx would hide: say so.
      if (bundle) process.stderr.write(`edn: the cached bundle ${bundle} did not load (${err instanceof Error ? err.message : String(err)}); running the sources through tsx\n`);
      main = undefined;
    }
  }
  if (!main) {
    const { register } = await import('tsx/esm/api');
    register();
    main = /** @type {{ main: Main }} */ (await import('./main.ts')).main;
  }
  return main(argv);
}
