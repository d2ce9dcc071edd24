// The `edn/layering` ESLint rule: the layers of README.md ("Architecture"), as code.
//
// Each source file belongs to the layer of the longest matching prefix below. An import is allowed
// only into the layers listed for the importer (its own layer is always allowed). Pure layers may
// not import platform modules at all (node builtins, serialport, electron). Tests are not a layer:
// they may import anything.
import { builtinModules } from 'node:module';
import path from 'node:path';

const ROOT = import.meta.dirname;

/** layer name -> path prefix (relative to the repository root, forward slashes). */
export const LAYERS = {
  'firmware-protocol': 'firmware-protocol/',
  domain: 'src/domain/',
  simulator: 'src/simulator/',
  device: 'src/device/',
  session: 'src/session/',
  course: 'src/course/',
  app: 'src/app/',
  cli: 'src/cli/',
  web: 'src/web/',
  'electron-main': 'electron/main/',
  'electron-preload': 'electron/preload/',
  'electron-renderer': 'electron/renderer/',
};

/** What each layer may import, besides itself. */
export const ALLOWED = {
  'firmware-protocol': [],
  domain: ['firmware-protocol'],
  // The simulator shares only the codec with the host (defence in depth: never the host's guard).
  simulator: ['firmware-protocol'],
  device: ['firmware-protocol', 'domain', 'simulator'],
  session: ['firmware-protocol', 'domain', 'device'],
  // Treatment courses: the course store and what is made from it; it reads session journals.
  course: ['firmware-protocol', 'domain', 'session'],
  app: ['firmware-protocol', 'domain', 'device', 'session', 'simulator', 'course'],
  cli: ['firmware-protocol', 'domain', 'device', 'session', 'app', 'simulator', 'web', 'course'],
  web: ['firmware-protocol', 'domain', 'app', 'simulator', 'device', 'session', 'course'],
  'electron-main': ['app', 'firmware-protocol', 'domain'],
  'electron-preload': ['app'],
  // The renderer may use the pure layers (the domain's rules, formats and formatting), as VS Code
  // lets browser code import `common`, and from the app only the contract (issue 10 §3).
  'electron-renderer': ['app', 'domain', 'firmware-protocol'],
};

/** Layers that must stay free of platform imports (node:*, serialport, electron). */
export const PURE = new Set(['firmware-protocol', 'domain']);

/** Files a layer may import from another layer, when not the whole layer (renderer: the contract only). */
const ONLY = {
  'electron-renderer': { app: ['src/app/contract.ts', 'src/app/contract.js'] },
  'electron-preload': { app: ['src/app/contract.ts', 'src/app/contract.js'] },
};

/** Browser-only npm packages the renderer may use (the chart library). */
const RENDERER_PACKAGES = ['uplot'];

const PLATFORM = [/^node:/, /^serialport$/, /^@serialport\//, /^electron(\/|$)/];
const builtins = new Set(builtinModules);

export function layerOf(relPath) {
  let best;
  for (const [name, prefix] of Object.entries(LAYERS)) {
    if (relPath.startsWith(prefix) && (!best || prefix.length > LAYERS[best].length)) best = name;
  }
  return best;
}

function isPlatform(spec) {
  return PLATFORM.some((re) => re.test(spec)) || builtins.has(spec.split('/')[0]);
}

/** Returns a message when `spec` imported from `file` (absolute) breaks the layering, else undefined. */
export function checkImport(file, spec) {
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  if (rel.startsWith('test/') || /\.test\.ts$/.test(rel)) return undefined;
  const from = layerOf(rel);
  if (!from) return undefined;
  if (PURE.has(from) && isPlatform(spec)) {
    return `Bad layering: ${from} is pure and may not import the platform module '${spec}'`;
  }
  if (from === 'electron-renderer' && !spec.startsWith('.') && !spec.startsWith('/') && !RENDERER_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`))) {
    return `Bad layering: electron/renderer may import only the app contract, the pure layers (and ${RENDERER_PACKAGES.join(', ')}), not '${spec}'`;
  }
  if (!spec.startsWith('.')) return undefined;
  const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
  const to = layerOf(target) ?? layerOf(target + '/');
  if (!to) {
    if (target.startsWith('..') || target.startsWith('node_modules')) return undefined;
    return from === 'electron-renderer' ? `Bad layering: electron/renderer may import only the app contract and the pure layers, not '${spec}'` : undefined;
  }
  if (to === from) return undefined;
  if (!ALLOWED[from].includes(to)) {
    return `Bad layering: ${from} may not import ${to} ('${spec}'); allowed: ${ALLOWED[from].join(', ') || 'nothing outside itself'}`;
  }
  const only = ONLY[from]?.[to];
  if (only && !only.includes(target)) {
    return `Bad layering: ${from} may import only ${only[0]} from ${to}, not '${spec}'`;
  }
  return undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce the layering of ARCHITECTURE.md' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string') return;
      const message = checkImport(file, source.value);
      if (message) context.report({ node, message });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
    };
  },
};

export const layeringPlugin = { rules: { layering: rule } };
