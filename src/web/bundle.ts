/**
 * The renderer for the browser host, bundled in memory with esbuild: electron/renderer/main.ts
 * (ESM, chrome120, everything bundled, nothing written to disk, no source map files) and
 * electron/renderer/index.html, adapted for serving over HTTP:
 *
 * - every `<script src=...>` is replaced by one `<script type="module" src="/main.js">` (the
 *   bundle), and `<link rel="stylesheet" href="/main.css">` is added when the bundle has CSS (CSS
 *   imported from main.ts, such as uPlot's, ends up there);
 * - other local stylesheets the page links (`href="styles.css"`) are served from `/static/...`;
 *   a link to `main.css` (what an Electron build emits) is dropped in favour of the bundle's;
 * - a `<meta http-equiv="Content-Security-Policy">` is removed: the host sends its own CSP as a
 *   header, which must allow its WebSocket (the Electron page's policy need not).
 *
 * Files imported by main.ts (.svg, .png, .woff2) are served from `/assets/`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { PageSource, RendererPage } from './host.js';

/** electron/renderer/ of this checkout. */
export const DEFAULT_RENDERER_ROOT = fileURLToPath(new URL('../../electron/renderer/', import.meta.url));

export interface BundleOptions {
  /** The directory with the page and its entry. Default: electron/renderer/. */
  readonly root?: string;
  /** The entry module, relative to root. Default 'main.ts'. */
  readonly entry?: string;
  /** The page, relative to root. Default 'index.html'. */
  readonly html?: string;
  /** Append an inline source map to the bundle (development). Default false. */
  readonly sourcemap?: boolean;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.json': 'application/json; charset=utf-8',
};

function typeOf(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Bundle the renderer and adapt its page. Rejects with the compiler's messages when it does not build. */
export async function bundleRenderer(options: BundleOptions = {}): Promise<RendererPage> {
  const root = path.resolve(options.root ?? DEFAULT_RENDERER_ROOT);
  const entry = path.join(root, options.entry ?? 'main.ts');
  if (!existsSync(entry)) throw new Error(`the renderer entry ${entry} does not exist`);
  const outdir = path.join(root, '.edn-web-bundle'); // a name for the outputs; write: false keeps them in memory
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: { main: entry },
      bundle: true,
      format: 'esm',
      target: 'chrome120',
      platform: 'browser',
      write: false,
      outdir,
      sourcemap: options.sourcemap === true ? 'inline' : false,
      publicPath: '/',
      assetNames: 'assets/[name]-[hash]',
      loader: { '.svg': 'file', '.png': 'file', '.woff2': 'file', '.woff': 'file' },
      legalComments: 'none',
      charset: 'utf8',
      logLevel: 'silent',
    });
  } catch (e) {
    throw new Error(describeBuildFailure(e));
  }
  const assets = new Map<string, { type: string; body: string | Uint8Array }>();
  for (const f of result.outputFiles) {
    const url = `/${path.relative(outdir, f.path).split(path.sep).join('/')}`;
    assets.set(url, { type: typeOf(f.path), body: f.contents });
  }
  const htmlFile = path.join(root, options.html ?? 'index.html');
  const html = await adaptPage(await readFile(htmlFile, 'utf8'), root, assets);
  return { html, assets };
}

/** A PageSource that bundles afresh for every page load (a reload picks up a changed renderer). */
export function rendererSource(options: BundleOptions = {}): PageSource {
  return () => bundleRenderer(options);
}

/** Stop esbuild's service process (at shutdown). */
export async function stopBundler(): Promise<void> {
  await esbuild.stop();
}

async function adaptPage(source: string, root: string, assets: Map<string, { type: string; body: string | Uint8Array }>): Promise<string> {
  // A removed tag takes its line with it when it stood alone on it.
  let html = source
    .replace(/^[ \t]*<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>[ \t]*\r?\n/gim, '')
    .replace(/<meta\b[^>]*http-equiv\s*=\s*["']?content-security-policy["']?[^>]*>/gi, '')
    .replace(/^[ \t]*<script\b[^>]*\bsrc\s*=[^>]*>\s*<\/script>[ \t]*\r?\n/gim, '')
    .replace(/<script\b[^>]*\bsrc\s*=[^>]*>\s*<\/script>/gi, '');
  const links = [...html.matchAll(/<link\b[^>]*>/gi)].map((m) => m[0]);
  for (const tag of links) {
    if (!/\brel\s*=\s*["']?stylesheet\b/i.test(tag)) continue;
    const href = /\bhref\s*=\s*["']([^"']+)["']/i.exec(tag)?.[1];
    const local = href !== undefined && !/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(href) ? path.resolve(root, href.split(/[?#]/)[0]!) : undefined;
    const inside = local !== undefined && (local + path.sep).startsWith(root + path.sep) && path.basename(local) !== 'main.css' && existsSync(local);
    if (!inside) {
      html = html.replace(new RegExp(`^[ \\t]*${escapeRegExp(tag)}[ \\t]*\\r?\\n`, 'm'), '').replace(tag, '');
      continue;
    }
    const url = `/static/${path.relative(root, local).split(path.sep).join('/')}`;
    assets.set(url, { type: typeOf(local), body: await readFile(local) });
    html = html.replace(tag, () => `<link rel="stylesheet" href="${url}">`);
  }
  const inject = `${assets.has('/main.css') ? '<link rel="stylesheet" href="/main.css">\n' : ''}<script type="module" src="/main.js"></script>\n`;
  const head = /^([ \t]*)<\/head>/im.exec(html);
  if (head) {
    const indent = `${head[1]!}  `;
    const block = `${inject.trimEnd().split('\n').map((l) => indent + l).join('\n')}\n${head[0]}`;
    return html.replace(head[0], () => block);
  }
  return /<\/head>/i.test(html) ? html.replace(/<\/head>/i, () => `${inject}</head>`) : `${inject}${html}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function describeBuildFailure(e: unknown): string {
  const errors = (e as Partial<esbuild.BuildFailure>).errors;
  if (!Array.isArray(errors) || errors.length === 0) return e instanceof Error ? e.message : String(e);
  return errors
    .slice(0, 10)
    .map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text))
    .join('\n');
}
