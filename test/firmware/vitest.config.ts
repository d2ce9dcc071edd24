// `npm run test:firmware`: the firmware suites too slow for `npm test` (the session suite against
// the Cortex-M3 image in QEMU, test/firmware/*.slow.ts), with the default run's setup and reporters.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default defineConfig({
  test: {
    ...base.test,
    root: fileURLToPath(new URL('../../', import.meta.url)),
    include: ['test/firmware/**/*.slow.ts'],
  },
});
