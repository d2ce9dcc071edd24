// electron-builder.yml: read by electron-builder's own loader, validated by electron-builder's own
// validation (app-builder-lib's validateConfiguration against its scheme.json), and once more
// with the same JSON-schema validator (app-builder-lib's ajv) without type coercion.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DebugLogger } from 'builder-util';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { loadConfig } from 'app-builder-lib/out/util/config/load.js';
import { describe, expect, it } from 'vitest';
import { APP_LAYOUT } from '../../../electron/main/layout.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);
const BUILDER_LIB = path.dirname(require.resolve('app-builder-lib/package.json'));

type Config = Parameters<typeof validateConfiguration>[0];

async function readConfig(): Promise<{ config: Config; file: string | null }> {
  const read = await loadConfig<Config>({ packageKey: 'build', configFilename: 'electron-builder', projectDir: ROOT, packageMetadata: null });
  if (!read) throw new Error('electron-builder found no configuration');
  return { config: read.result, file: read.configFile };
}

/** app-builder-lib's own ajv (8.x), as electron-builder validates with it. */
interface Validate {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string }[] | null;
}
function schemaValidator(): Validate {
  const requireFromBuilder = createRequire(path.join(BUILDER_LIB, 'package.json'));
  const Ajv = (requireFromBuilder('ajv') as { default: new (options: object) => { compile(schema: unknown): Validate } }).default;
  const schema: unknown = requireFromBuilder('./scheme.json');
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

describe('electron-builder.yml', () => {
  it('is the configuration electron-builder finds (package.json has no "build" key)', async () => {
    const { file } = await readConfig();
    expect(file).toBe(path.join(ROOT, 'electron-builder.yml'));
  });

  it("passes electron-builder's own configuration validation", async () => {
    const { config } = await readConfig();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('matches scheme.json exactly (no type coercion)', async () => {
    const { config } = await readConfig();
    const validate = schemaValidator();
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the validation has teeth: an unknown key or a wrong type is rejected', async () => {
    const { config } = await readConfig();
    const validate = schemaValidator();
    expect(validate({ ...config, sandboxOff: true })).toBe(false);
    expect(validate({ ...config, asar: 'yes please' })).toBe(false);
    await expect(validateConfiguration({ ...config, linux: { ...config.linux, categoryy: 'Science' } } as Config, new DebugLogger(false))).rejects.toThrow(/Invalid configuration/);
  });

  it('names the app and the platform targets of the issue', async () => {
    const { config } = await readConfig();
    expect(config.appId).toMatch(/^[a-zA-Z][\w-]*(\.[a-zA-Z][\w-]*)+$/);
    expect(config.productName).toBe('EDN Controller');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(String(config.linux?.category).split(';')).toEqual(expect.arrayContaining(['Science', 'MedicalSoftware']));
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
  });

  it('packs the bundles, the entry and package.json, and no tests or TypeScript sources', async () => {
    const { config } = await readConfig();
    const files = config.files as string[];
    expect(files).toEqual(expect.arrayContaining(['package.json', 'electron/main/entry.cjs', `${APP_LAYOUT.outDir.join('/')}/**/*`]));
    expect(files).toEqual(expect.arrayContaining(['!test/**', '!**/*.test.*', '!**/*.ts']));
    expect(config.asar).toBe(true);
  });

  it('packs the file package.json "main" names, and that file loads the main bundle of APP_LAYOUT', async () => {
    const pkg = require(path.join(ROOT, 'package.json')) as { main: string };
    expect(pkg.main).toBe('electron/main/entry.cjs');
    expect(existsSync(path.join(ROOT, pkg.main))).toBe(true);
    const { readFileSync } = await import('node:fs');
    const entry = readFileSync(path.join(ROOT, pkg.main), 'utf8');
    expect(entry).toContain(`path.join(__dirname, '..', '..', ${APP_LAYOUT.main.map((p) => `'${p}'`).join(', ')})`);
  });
});
