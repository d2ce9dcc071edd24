import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { FORMAT_LIMITS } from '../../../src/domain/safety/limits.js';
import { memoryIO } from './memory-io.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/protocols');
const LIBRARY = path.resolve(import.meta.dirname, '../../../src/domain/protocols/library');
const tmp = mkdtempSync(path.join(tmpdir(), 'edn-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...argv: string[]) {
  const io = memoryIO(FIXTURES);
  const code = await main(['validate', ...argv], io);
  return { code, out: io.stdout.text, err: io.stderr.text };
}

describe('edn validate', () => {
  it('exits 0 and says valid, with id and hash, when every file is valid', async () => {
    const r = await run('valid/base.json', 'valid/burst.json');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^valid\/base\.json: valid \(id test-knee, sha256 [0-9a-f]{64}\)$/m);
    expect(r.out).toMatch(/^valid\/burst\.json:\d+:\d+: warning: phases\[0\]\.amplitude\.maxMa: RMS current density/m);
    expect(r.out).toContain('all 2 files are valid');
    expect(r.err).toBe('');
  });

  it('exits 1 and prints one line per error with file, line, column, path and reason', async () => {
    const r = await run('invalid/amplitude-above-ceiling.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('invalid/amplitude-above-ceiling.json: invalid (1 error)');
    expect(r.out).toMatch(
      /^invalid\/amplitude-above-ceiling\.json:\d+:\d+: error: phases\[0\]\.amplitude\.maxMa: 25 mA is above the 20 mA ceiling for needle electrodes \[docs\/CLINICAL\.md#amplitude\]$/m,
    );
  });

  it('refuses a file that takes a built-in\'s name (unless it is that built-in), and accepts the library files', async () => {
    const knee = JSON.parse(readFileSync(path.join(LIBRARY, 'knee-oa-periosteal.json'), 'utf8')) as Record<string, unknown>;
    const file = path.join(tmp, 'impostor.json');
    writeFileSync(file, JSON.stringify({ ...knee, id: 'impostor' }, null, 2));
    const r = await run(file);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/impostor\.json:4:11: error: name: "Periosteal EDN for knee osteoarthritis" is the name of the built-in protocol knee-oa-periosteal: give your protocol its own name/);
    const library = await run(...['knee-oa-periosteal', 'plantar-fasciitis', 'low-back-mtrp', 'dense-disperse-2-100'].map((id) => path.join(LIBRARY, `${id}.json`)));
    expect(library.code).toBe(0);
  });

  it('exits 1 when any one of several files is invalid, and reports each', async () => {
    const r = await run('valid/base.json', 'invalid/region-head.json', 'missing.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('valid/base.json: valid');
    expect(r.out).toContain('invalid/region-head.json: invalid');
    expect(r.out).toContain('missing.json: error: cannot read the file: no such file');
    expect(r.out).toContain('2 of 3 files are invalid');
  });

  it('--json prints one object per file per line', async () => {
    const r = await run('--json', 'valid/dense-disperse.json', 'invalid/syntax-trailing-comma.json');
    expect(r.code).toBe(1);
    const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ file: 'valid/dense-disperse.json', valid: true, errors: [], id: 'test-dense-disperse' });
    expect(lines[0]!.warnings).toEqual([expect.objectContaining({ path: 'phases[0].amplitude.maxMa', message: expect.stringContaining('RMS') as unknown })]);
    expect(lines[1]).toMatchObject({ file: 'invalid/syntax-trailing-comma.json', valid: false, warnings: [] });
    expect(lines[1]!.errors).toEqual([expect.objectContaining({ path: '', message: expect.stringContaining('trailing comma') as unknown, line: expect.any(Number) as unknown })]);
  });

  it('reports unreadable, oversized and non-UTF-8 files as invalid, not as crashes', async () => {
    writeFileSync(path.join(tmp, 'big.json'), Buffer.alloc(FORMAT_LIMITS.maxFileBytes + 1, 0x20));
    writeFileSync(path.join(tmp, 'latin1.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    mkdirSync(path.join(tmp, 'dir.json'));
    const r = await run('--json', path.join(tmp, 'big.json'), path.join(tmp, 'latin1.json'), path.join(tmp, 'dir.json'));
    expect(r.code).toBe(1);
    const messages = r.out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { errors: { message: string }[] }).errors[0]!.message);
    expect(messages[0]).toContain(`at most ${FORMAT_LIMITS.maxFileBytes} bytes`);
    expect(FORMAT_LIMITS.maxFileBytes).toBe(262_144);
    expect(messages[1]).toContain('not UTF-8');
    expect(messages[2]).toContain('directory');
  });

  it('is a usage error (exit 2) without files or with an unknown flag', async () => {
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.err).toContain('name at least one protocol file');
    const flag = await run('--yaml', 'valid/base.json');
    expect(flag.code).toBe(2);
    expect(flag.err).toContain('Usage: edn validate');
  });

  it('prints its usage with --help', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: edn validate FILE... [--json]');
  });

  it('validates every built-in library file', async () => {
    const lib = path.resolve(import.meta.dirname, '../../../src/domain/protocols/library');
    const io = memoryIO(lib);
    const code = await main(['validate', 'knee-oa-periosteal.json', 'plantar-fasciitis.json', 'low-back-mtrp.json', 'dense-disperse-2-100.json'], io);
    expect(code).toBe(0);
  });
});
