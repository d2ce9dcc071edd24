/**
 * A tiny renderer written to a temporary directory (in place of electron/renderer, which is
 * written concurrently): index.html with an Electron-style CSP meta and script tag, a local
 * stylesheet, and main.ts importing the real contract and a CSS file.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const CONTRACT = path.resolve(import.meta.dirname, '../../../src/app/contract.js');

export function writeFixtureRenderer(options: { broken?: boolean } = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'edn-renderer-'));
  mkdirSync(path.join(root, 'styles'));
  writeFileSync(
    path.join(root, 'index.html'),
    [
      '<!doctype html>',
      '<html lang="en">',
      '<head>',
      '  <meta charset="utf-8">',
      `  <meta http-equiv="Content-Security-Policy" content="default-src 'self'">`,
      '  <title>EDN fixture</title>',
      '  <link rel="stylesheet" href="styles/app.css">',
      '  <link rel="stylesheet" href="dist/main.css">',
      '  <link rel="stylesheet" href="../outside.css">',
      '  <script type="module" src="dist/main.js"></script>',
      '</head>',
      '<body><main id="app">fixture renderer</main></body>',
      '</html>',
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(root, 'styles', 'app.css'), 'main { color: #123456; }\n');
  writeFileSync(path.join(root, 'bundled.css'), '.bundled-marker { color: #654321; }\n');
  writeFileSync(
    path.join(root, 'main.ts'),
    options.broken
      ? 'const x: number = ;\n'
      : [
          `import { CALL_NAMES } from ${JSON.stringify(pathToFileURL(CONTRACT).pathname)};`,
          "import './bundled.css';",
          "const app = document.getElementById('app');",
          "if (app) app.textContent = `calls: ${CALL_NAMES.join(',')}`;",
          '',
        ].join('\n'),
  );
  return root;
}
