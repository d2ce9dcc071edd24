// Electron's entry point (package.json "main"). The main process is TypeScript (electron/main),
// bundled by `npm start` (electron/start.js) into out/main/main.cjs, which this file loads. In a
// packaged app the same bundle is inside app.asar (electron-builder.yml packs out/).
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry loads with require */
'use strict';

const path = require('node:path');
const fs = require('node:fs');

const bundle = path.join(__dirname, '..', '..', 'out', 'main', 'main.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write(`EDN Controller: ${bundle} is missing. Start the app with \`npm start\`, which builds it.\n`);
  process.exit(1);
}
require(bundle);
