// What main expects of the renderer's page (electron/renderer/index.html, owned by the UI): a CSP
// meta tag at least as strict as the header main adds where it matters (file:// documents may get
// no response headers), and only local files that the launcher's renderer bundle provides.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleOptions } from '../../../electron/main/launcher.js';
import { CSP_DIRECTIVES } from '../../../electron/main/security.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PAGE = path.join(ROOT, 'electron', 'renderer', 'index.html');

function metaPolicy(html: string): Map<string, string[]> {
  const tag = /<meta\b[^>]*http-equiv\s*=\s*["']content-security-policy["'][^>]*>/i.exec(html)?.[0];
  const content = tag && /\bcontent\s*=\s*"([^"]*)"/i.exec(tag)?.[1];
  if (!content) throw new Error('electron/renderer/index.html has no <meta http-equiv="Content-Security-Policy" content="...">');
  const directives = new Map<string, string[]>();
  for (const part of content.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** The sources in force for a directive (falling back to default-src like a browser). */
function effective(policy: Map<string, string[]>, directive: string): string[] {
  return policy.get(directive) ?? policy.get('default-src') ?? ['*'];
}

describe('the renderer page (electron/renderer/index.html)', () => {
  const html = readFileSync(PAGE, 'utf8');

  it('carries a CSP meta tag', () => {
    expect(() => metaPolicy(html)).not.toThrow();
  });

  it('never allows inline or eval code, remote scripts or styles, plugins or a <base>', () => {
    const policy = metaPolicy(html);
    const all = [...policy.values()].flat();
    expect(all.filter((s) => /unsafe-|^\*$|^https?:$|^http:|^https:/.test(s))).toEqual([]);
    expect(effective(policy, 'script-src')).toEqual(["'self'"]);
    expect(effective(policy, 'style-src')).toEqual(["'self'"]);
    expect(effective(policy, 'object-src')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(['\'self\'', "'none'"]).toContain(policy.get('default-src')?.join(' '));
  });

  it('allows no network beyond the loopback WebSocket of `npm run web` (in Electron the header makes it none)', () => {
    const policy = metaPolicy(html);
    for (const source of effective(policy, 'connect-src')) {
      expect(["'self'", "'none'"].includes(source) || /^wss?:\/\/(127\.0\.0\.1|localhost)(:\*|:\d+)?$/.test(source), source).toBe(true);
    }
    expect(CSP_DIRECTIVES['connect-src']).toEqual(["'none'"]);
  });

  it('references only files the launcher writes beside it (the bundle and copied style sheets)', async () => {
    const options = bundleOptions(ROOT).renderer;
    const result = await build({ ...options, entryPoints: [...options.entryPoints], write: false, sourcemap: false, logLevel: 'silent' });
    const produced = new Set(result.outputFiles.map((f) => path.relative(options.outdir, f.path).split(path.sep).join('/')));
    const local = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"'#?]+)["']/gi)].map((m) => m[1]!).filter((u) => !/^[a-z][a-z0-9+.-]*:|^\/\//i.test(u));
    expect(local.length).toBeGreaterThan(0);
    for (const file of local) {
      const copied = file.endsWith('.css') && !produced.has(file) ? readFileSync(path.join(ROOT, 'electron', 'renderer', file)) : undefined;
      expect(produced.has(file) || copied !== undefined, `${file} is referenced by index.html but not produced`).toBe(true);
    }
  });
});
