// How `edn` starts (src/cli/launch.js): the esbuild bundle cached by a fingerprint of its sources.
// A checkout in a temporary directory stands in for the repository, so nothing is written here.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, bundledCli, loadBundle, lockBuild, validBundle } from '../../../src/cli/launch.js';

const LAUNCH = path.join(REPO_ROOT, 'src/cli/launch.js');
const EDN = path.join(REPO_ROOT, 'src/cli/edn.js');
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A checkout with src/main.ts (its answer: 40 + the number of arguments, + 1 if import.meta.url is its own). */
function checkout(): { root: string; dir: string; where: { root: string; entry: string; dir: string } } {
  const root = mkdtempSync(path.join(tmpdir(), 'edn-launch-'));
  made.push(root);
  mkdirSync(path.join(root, 'src'));
  writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(path.join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
  writeFileSync(path.join(root, 'src/answer.ts'), 'export const answer: number = 40;\n');
  writeFileSync(
    path.join(root, 'src/main.ts'),
    [
      "import { answer } from './answer.js';",
      `const own = import.meta.url === ${JSON.stringify(pathToFileURL(path.join(root, 'src/main.ts')).href)} ? 1 : 0;`,
      'export async function main(argv: readonly string[]): Promise<number> {',
      '  return answer + argv.length + own;',
      '}',
      '',
    ].join('\n'),
  );
  const dir = path.join(root, 'cache');
  return { root, dir, where: { root, entry: 'src/main.ts', dir } };
}

const bundles = (dir: string) => readdirSync(dir).filter((f) => /^cli-[0-9a-f]+\.cjs$/.test(f));

describe('the cached CLI bundle', () => {
  it('is built on first use, then loaded without a rebuild', async () => {
    const { root, dir, where } = checkout();
    expect(validBundle(where)).toBeUndefined();
    const first = await bundledCli(where);
    expect(first).toBeDefined();
    const mtime = statSync(first!).mtimeMs;
    expect(validBundle(where)).toBe(first);
    expect(await bundledCli(where)).toBe(first);
    expect(statSync(first!).mtimeMs).toBe(mtime);
    expect(bundles(dir)).toHaveLength(1);
    // 40 + 2 arguments + 1: import.meta.url is main.ts's own location, not the bundle's.
    expect(await loadBundle(first!, root).main(['a', 'b'])).toBe(43);
    expect(readdirSync(dir).some((f) => f.endsWith('.v8cache'))).toBe(true);
    expect(await loadBundle(first!, root).main([])).toBe(41); // from the code cache this time
  });

  it('runs a module the entry import()s only when it is imported (how `edn --help` skips the commands)', async () => {
    const { root, where } = checkout();
    // A module with a side effect at its top level, reached only through import() from the entry.
    writeFileSync(path.join(root, 'src/heavy.ts'), '(globalThis as { heavyRuns?: number }).heavyRuns = ((globalThis as { heavyRuns?: number }).heavyRuns ?? 0) + 1;\nexport const weight = 100;\n');
    writeFileSync(
      path.join(root, 'src/main.ts'),
      [
        'export async function main(argv: readonly string[]): Promise<number> {',
        "  if (argv[0] !== 'heavy') return 1;",
        "  return (await import('./heavy.js')).weight;",
        '}',
        '',
      ].join('\n'),
    );
    const g = globalThis as { heavyRuns?: number };
    delete g.heavyRuns;
    const { main } = loadBundle((await bundledCli(where))!, root);
    expect(await main(['--help'])).toBe(1);
    expect(g.heavyRuns).toBeUndefined(); // loading the bundle and running main did not run heavy.ts
    expect(await main(['heavy'])).toBe(100);
    expect(await main(['heavy'])).toBe(100);
    expect(g.heavyRuns).toBe(1); // run on first import, once
    delete g.heavyRuns;
  });

  it('never runs a stale bundle: a changed source rebuilds, even at the same size and time', async () => {
    const { root, where } = checkout();
    const first = (await bundledCli(where))!;
    const answer = path.join(root, 'src/answer.ts');
    const before = statSync(answer);
    writeFileSync(answer, 'export const answer: number = 50;\n'); // same length
    utimesSync(answer, before.atime, before.mtime);
    expect(statSync(answer).size).toBe(before.size);
    expect(validBundle(where)).toBeUndefined();
    const second = (await bundledCli(where))!;
    expect(second).not.toBe(first);
    expect(await loadBundle(second, root).main([])).toBe(51);
  });

  it('rebuilds when a file appears beside the sources (it could change what an import resolves to)', async () => {
    const { root, where } = checkout();
    await bundledCli(where);
    writeFileSync(path.join(root, 'src/answer.js'), 'export const answer = 7;\n');
    expect(validBundle(where)).toBeUndefined();
  });

  it('rebuilds when tsconfig.json changes, and not for a file elsewhere', async () => {
    const { root, where } = checkout();
    await bundledCli(where);
    writeFileSync(path.join(root, 'notes.txt'), 'unrelated\n');
    expect(validBundle(where)).toBeDefined();
    writeFileSync(path.join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": false } }\n');
    expect(validBundle(where)).toBeUndefined();
  });

  it('refuses to build while a live process holds the lock, and takes over the lock of a dead one', async () => {
    const { dir, where } = checkout();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'build.lock'), String(process.pid));
    expect(lockBuild(dir)).toBeUndefined();
    expect(await bundledCli(where)).toBeUndefined(); // the caller runs the sources through tsx
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(path.join(dir, 'build.lock'), String(gone));
    expect(await bundledCli(where)).toBeDefined();
    expect(existsSync(path.join(dir, 'build.lock'))).toBe(false);
  });

  it('a build that fails rejects, so that the launcher falls back to tsx', async () => {
    const { root, where } = checkout();
    writeFileSync(path.join(root, 'src/answer.ts'), 'export const answer: number = ;\n');
    await expect(bundledCli(where)).rejects.toThrow();
    expect(existsSync(path.join(where.dir, 'build.lock'))).toBe(false);
  });

  it('four processes starting at once: each runs the right code, one bundle, no torn or temporary file', async () => {
    const { root, dir } = checkout();
    const script = [
      `import { bundledCli, loadBundle } from ${JSON.stringify(pathToFileURL(LAUNCH).href)};`,
      `const where = ${JSON.stringify({ root, entry: 'src/main.ts', dir })};`,
      'const bundle = await bundledCli(where);',
      `process.stdout.write(JSON.stringify({ bundle: bundle ?? null, code: bundle ? await loadBundle(bundle, where.root).main(['x']) : null }));`,
    ].join('\n');
    const runs = await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<{ status: number | null; out: string; err: string }>((resolve) => {
            const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
            let out = '';
            let err = '';
            child.stdout.on('data', (d: Buffer) => (out += d.toString()));
            child.stderr.on('data', (d: Buffer) => (err += d.toString()));
            child.on('close', (status) => resolve({ status, out, err }));
          }),
      ),
    );
    for (const r of runs) expect(r, r.err).toMatchObject({ status: 0 });
    const results = runs.map((r) => JSON.parse(r.out) as { bundle: string | null; code: number | null });
    const built = results.filter((r) => r.bundle !== null);
    expect(built.length).toBeGreaterThanOrEqual(1);
    for (const r of built) expect(r.code).toBe(42);
    expect(new Set(built.map((r) => r.bundle)).size).toBe(1);
    expect(bundles(dir)).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === 'build.lock')).toEqual([]);
    expect(validBundle({ root, entry: 'src/main.ts', dir })).toBe(built[0]!.bundle);
  });
});

describe('edn from the bundle', () => {
  const cache = mkdtempSync(path.join(tmpdir(), 'edn-cli-cache-'));
  made.push(cache);
  const edn = (args: readonly string[], env: Record<string, string>) => spawnSync(process.execPath, [EDN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });

  it.each([[['--help']], [['protocols']], [['validate', 'test/fixtures/protocols/valid/base.json']], [['protocols', 'show', 'nope']]])(
    'edn %j prints and exits as it does through tsx',
    (args) => {
      const bundled = edn(args, { EDN_CLI_CACHE_DIR: cache });
      const viaTsx = edn(args, { EDN_CLI_CACHE: 'off' });
      expect(bundles(cache)).toHaveLength(1); // the bundle was there to run
      expect({ status: bundled.status, stdout: bundled.stdout, stderr: bundled.stderr }).toEqual({ status: viaTsx.status, stdout: viaTsx.stdout, stderr: viaTsx.stderr });
      expect(bundled.stdout.length + bundled.stderr.length).toBeGreaterThan(0);
    },
    60_000,
  );

  it('keeps the bundle it built (the manifest names it)', () => {
    const manifest = JSON.parse(readFileSync(path.join(cache, 'manifest.json'), 'utf8')) as { bundle: string; inputs: { file: string }[] };
    expect(bundles(cache)).toEqual([manifest.bundle]);
    expect(manifest.inputs.map((i) => i.file)).toContain('src/cli/main.ts');
  });
});
