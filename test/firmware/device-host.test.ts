/**
 * Device checks over a pty (device-pty.ts) against the C firmware's host port:
 * `edn simulate --firmware host`. A missing socat, make or gcc fails the file.
 */
import { beforeAll } from 'vitest';
import { requireSocat } from '../support/pty.js';
import { devicePtySuite } from './device-pty.js';
import { BUILD_TIMEOUT_MS, FIRMWARE_BUILD_DIR, built } from './support.js';

beforeAll(async () => {
  requireSocat();
  await built('host');
}, BUILD_TIMEOUT_MS);

devicePtySuite('the C firmware, host port', ['--seed', '7', '--firmware', 'host'], { EDN_FW_BUILD_DIR: FIRMWARE_BUILD_DIR });
