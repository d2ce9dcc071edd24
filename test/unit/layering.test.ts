/**
 * The layering of ARCHITECTURE.md is enforced by the `edn/layering` ESLint rule: these tests show
 * it refuses each kind of bad import, and that the project's ESLint config runs it.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain JavaScript module (the ESLint config's own), without declarations
import { checkImport } from '../../eslint.layering.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const at = (rel: string) => path.join(ROOT, rel);
const check = checkImport as (file: string, spec: string) => string | undefined;

describe('edn/layering', () => {
  it.each([
    ['firmware-protocol/codec.ts', 'node:fs', /pure/],
    ['firmware-protocol/codec.ts', 'serialport', /pure/],
    ['firmware-protocol/codec.ts', '../src/domain/index.js', /may not import domain/],
    ['src/domain/physics.ts', 'node:crypto', /pure/],
    ['src/domain/physics.ts', 'fs', /pure/],
    ['src/domain/physics.ts', 'electron', /pure/],
    ['src/domain/physics.ts', '../session/runner.js', /may not import session/],
    ['src/simulator/stimulator.ts', '../domain/safety/guard.js', /may not import domain/],
    ['src/device/client.ts', '../session/runner.js', /may not import session/],
    ['src/session/runner.ts', '../app/service.js', /may not import app/],
    ['src/session/report.ts', '../course/store.js', /may not import course/],
    ['src/course/store.ts', '../app/service.js', /may not import app/],
    ['src/course/store.ts', '../device/client.js', /may not import device/],
    ['electron/renderer/main.ts', 'zod', /only the app contract/],
    ['electron/renderer/main.ts', '../../src/device/client.js', /may not import device/],
    ['electron/renderer/main.ts', '../../src/simulator/stimulator.js', /may not import simulator/],
    ['electron/renderer/main.ts', '../../src/app/service.js', /only src\/app\/contract.ts/],
    ['electron/renderer/main.ts', '../../src/session/runner.js', /may not import session/],
    ['electron/preload/index.ts', '../../src/app/service.js', /only src\/app\/contract.ts/],
  ])('%s may not import %s', (file, spec, message) => {
    expect(check(at(file), spec)).toMatch(message);
  });

  it.each([
    ['src/domain/physics.ts', '../../firmware-protocol/index.js'],
    ['src/domain/physics.ts', './units.js'],
    ['src/device/client.ts', '../domain/safety/guard.js'],
    ['src/simulator/stimulator.ts', '../../firmware-protocol/index.js'],
    ['src/session/runner.ts', '../device/client.js'],
    ['src/course/store.ts', '../session/journal.js'],
    ['src/cli/commands/courses.ts', '../../course/store.js'],
    ['electron/renderer/main.ts', '../../src/app/contract.js'],
    ['electron/renderer/main.ts', 'uplot'],
    ['electron/renderer/main.ts', '../../src/domain/format.js'],
    ['electron/renderer/protocol-model.ts', '../../src/domain/safety/limits.js'],
    ['electron/main/main.ts', 'electron'],
    ['test/unit/anything.test.ts', '../../src/app/service.js'],
  ])('%s may import %s', (file, spec) => {
    expect(check(at(file), spec)).toBeUndefined();
  });

  it('runs in the project ESLint config and fails a violation', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    // Linted as if it were src/domain/physics.ts (a file the type-aware config knows), not written to disk.
    const [result] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", { filePath: at('src/domain/physics.ts') });
    const messages = result!.messages.filter((m) => m.ruleId === 'edn/layering');
    expect(messages).toHaveLength(1);
    expect(messages[0]!.severity).toBe(2);
    // Type-aware linting builds the whole program first: room to finish on a loaded 2-core machine
    // (not a timed assertion).
  }, 90_000);
});
