// Doyensec Electronegativity over electron/ (offline; test/security/electronegativity.ts): no HIGH
// finding. It reads the window's webPreferences only where the window is constructed, which is
// why window.ts writes them out there.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanElectron } from '../../security/electronegativity.js';

const SCAN_MS = 60_000; // loading the scanner takes a few seconds, more on a loaded machine

describe('Electronegativity', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(
    'reports no HIGH on electron/, and none of the window checks',
    async () => {
      const { findings } = await scanElectron();
      expect(findings.filter((f) => f.severity === 'HIGH')).toEqual([]);
      const windowChecks = ['CONTEXT_ISOLATION_JS_CHECK', 'NODE_INTEGRATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'AUXCLICK_JS_CHECK', 'WEB_SECURITY_JS_CHECK', 'INSECURE_CONTENT_JS_CHECK'];
      expect(findings.filter((f) => windowChecks.includes(f.id))).toEqual([]);
    },
    SCAN_MS,
  );

  it(
    'reports a HIGH for a window whose options are behind a variable (how window.ts was written)',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'edn-eneg-'));
      dirs.push(dir);
      writeFileSync(
        path.join(dir, 'main.ts'),
        [
          "import { BrowserWindow } from 'electron';",
          'const options = { webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false } };',
          'export const create = (o: typeof options) => new BrowserWindow(o);',
          '',
        ].join('\n'),
      );
      const { findings } = await scanElectron(dir);
      expect(findings).toContainEqual(expect.objectContaining({ id: 'CONTEXT_ISOLATION_JS_CHECK', severity: 'HIGH', file: 'main.ts' }));
    },
    SCAN_MS,
  );
});
