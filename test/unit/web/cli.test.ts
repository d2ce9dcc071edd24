import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { COMMANDS, main } from '../../../src/cli/main.js';
import { writeFixtureRenderer } from './fixture.js';

/** A stream that remembers what was written and can wait for a pattern. */
class Capture extends Writable {
  text = '';
  #waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    for (const w of [...this.#waiters]) {
      const m = w.re.exec(this.text);
      if (m) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
    cb();
  }
  waitFor(re: RegExp): Promise<RegExpExecArray> {
    const m = re.exec(this.text);
    return m ? Promise.resolve(m) : new Promise((resolve) => this.#waiters.push({ re, resolve }));
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function io(signal?: AbortSignal): CliIO & { stdout: Capture; stderr: Capture } {
  const cwd = mkdtempSync(path.join(tmpdir(), 'edn-web-cli-'));
  dirs.push(cwd);
  return { stdout: new Capture(), stderr: new Capture(), cwd, env: {}, ...(signal ? { signals: signal } : {}) };
}

function get(url: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), type: res.headers['content-type'] }));
      })
      .on('error', reject);
  });
}

describe('edn web', () => {
  it('is registered, documents its options, and refuses any host but 127.0.0.1', async () => {
    expect(COMMANDS.map((c) => c.name)).toContain('web');
    const help = io();
    expect(await main(['web', '--help'], help)).toBe(0);
    for (const word of ['--port N', '--data-dir DIR', '--allow-hardware', '--open-url-file FILE', '127.0.0.1', '2 s', 'SIGTERM', 'Exit codes']) expect(help.stdout.text).toContain(word);

    const wide = io();
    expect(await main(['web', '--host', '0.0.0.0'], wide)).toBe(2);
    expect(wide.stderr.text).toMatch(/--host 0\.0\.0\.0 is refused.*127\.0\.0\.1 only/);
    const port = io();
    expect(await main(['web', '--port', 'eighty'], port)).toBe(2);
  });

  it('serves the bundled renderer at the printed URL, writes the URL file, and stops on a signal', async () => {
    const renderer = writeFixtureRenderer();
    dirs.push(renderer);
    const stop = new AbortController();
    const cli = io(stop.signal);
    const urlFile = path.join(cli.cwd, 'url.txt');
    const exit = main(['web', '--port', '0', '--renderer', renderer, '--data-dir', path.join(cli.cwd, 'data'), '--open-url-file', urlFile], cli);
    const [, url] = await cli.stdout.waitFor(/open (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32})\n/);
    expect(cli.stdout.text).toContain('simulator only');
    expect(readFileSync(urlFile, 'utf8')).toBe(`${url}\n`);
    expect(statSync(urlFile).mode & 0o777).toBe(0o600);

    const page = await get(url!);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/main.js"></script>');
    const origin = new URL(url!).origin;
    const js = await get(`${origin}/main.js`);
    expect(js.status).toBe(200);
    expect(js.body).toContain('listPorts');
    expect((await get(`${origin}/main.css`)).body).toContain('.bundled-marker');
    expect((await get(`${origin}/`)).status).toBe(403);

    stop.abort();
    expect(await exit).toBe(0);
    expect(cli.stdout.text).toMatch(/stopped\n$/);
    expect(cli.stderr.text).toBe('');
  });

  it('keeps running and says so when the renderer does not build', async () => {
    const renderer = writeFixtureRenderer({ broken: true });
    dirs.push(renderer);
    const stop = new AbortController();
    const cli = io(stop.signal);
    const exit = main(['web', '--renderer', renderer, '--data-dir', path.join(cli.cwd, 'data')], cli);
    const [, url] = await cli.stdout.waitFor(/open (http:\S+)\n/);
    expect(cli.stderr.text).toMatch(/does not build yet[\s\S]*main\.ts:1:/);
    const page = await get(url!);
    expect(page.status).toBe(500);
    expect(page.body).toMatch(/could not be built/);
    stop.abort();
    expect(await exit).toBe(0);
  });
});
