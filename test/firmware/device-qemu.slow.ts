/**
 * Device checks over a pty (device-pty.ts) against the C firmware's Cortex-M3 image in QEMU:
 * `edn simulate --firmware qemu`. In `npm run test:firmware`.
 */
import { beforeAll } from 'vitest';
import { requireSocat } from '../support/pty.js';
import { devicePtySuite } from './device-pty.js';
import { BUILD_TIMEOUT_MS, FIRMWARE_BUILD_DIR, built } from './support.js';

beforeAll(async () => {
  requireSocat();
  await built('qemu');
}, BUILD_TIMEOUT_MS);

devicePtySuite('the C firmware on a Cortex-M3 in QEMU', ['--seed', '7', '--firmware', 'qemu'], { EDN_FW_BUILD_DIR: FIRMWARE_BUILD_DIR });
