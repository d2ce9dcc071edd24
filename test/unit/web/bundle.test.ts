import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bundleRenderer, stopBundler } from '../../../src/web/bundle.js';
import { writeFixtureRenderer } from './fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(async () => {
  await stopBundler();
});

const text = (body: string | Uint8Array | undefined) => (typeof body === 'string' ? body : Buffer.from(body ?? new Uint8Array()).toString('utf8'));

describe('bundleRenderer', () => {
  it('bundles main.ts in memory (ESM, with its CSS) and adapts the page for the host', async () => {
    const root = writeFixtureRenderer();
    dirs.push(root);
    const page = await bundleRenderer({ root });
    expect([...page.assets.keys()].sort()).toEqual(['/main.css', '/main.js', '/static/styles/app.css']);
    const js = text(page.assets.get('/main.js')?.body);
    expect(js).toContain('listPorts'); // the contract was bundled in
    expect(js).not.toMatch(/^\s*import\s/m); // everything bundled
    expect(js).not.toContain('sourceMappingURL');
    expect(page.assets.get('/main.js')?.type).toMatch(/^text\/javascript/);
    expect(text(page.assets.get('/main.css')?.body)).toContain('.bundled-marker');
    expect(text(page.assets.get('/static/styles/app.css')?.body)).toContain('#123456');

    expect(page.html).not.toMatch(/Content-Security-Policy/i);
    expect(page.html).not.toContain('dist/main.js');
    expect(page.html).not.toContain('dist/main.css');
    expect(page.html).not.toContain('outside.css');
    expect(page.html).toContain('<link rel="stylesheet" href="/static/styles/app.css">');
    expect(page.html).toContain('  <link rel="stylesheet" href="/main.css">\n  <script type="module" src="/main.js"></script>\n</head>');
    expect(page.html).not.toMatch(/\n[ \t]*\n/); // removed tags take their lines with them
    expect(page.html.match(/<script/g)).toHaveLength(1);
  });

  it('reports a renderer that does not build with file and line, and a missing entry', async () => {
    const root = writeFixtureRenderer({ broken: true });
    dirs.push(root);
    await expect(bundleRenderer({ root })).rejects.toThrow(/main\.ts:1:\d+: /);
    await expect(bundleRenderer({ root, entry: 'nope.ts' })).rejects.toThrow(/does not exist/);
  });
});
