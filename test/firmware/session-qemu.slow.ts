/**
 * The session integration suite (test/integration/session-suite.ts), unchanged, against the C
 * firmware's Cortex-M3 image in QEMU (`edn simulate --pty --json --firmware qemu`: mps2-an385,
 * CMSDK UART0 on interrupts, SysTick as the clock), through the real `serialport` package over a
 * socat pseudo-terminal, on real time. The same assertions as against the TypeScript simulator and
 * the host port. Run by `npm run test:firmware` (test/firmware/vitest.config.ts): it takes about as long
 * as the pty suite and starts QEMU ten times. A missing qemu-system-arm, arm-none-eabi-gcc or socat
 * fails it.
 */
import { beforeAll } from 'vitest';
import { sessionSuite } from '../integration/session-suite.js';
import { requireSocat } from '../support/pty.js';
import { ptyFactory } from '../support/pty-session.js';
import { BUILD_TIMEOUT_MS, FIRMWARE_BUILD_DIR, built } from './support.js';

beforeAll(async () => {
  requireSocat();
  await built('qemu');
}, BUILD_TIMEOUT_MS);

sessionSuite(ptyFactory('pty: SerialTransport to `edn simulate --firmware qemu` (the C firmware on a Cortex-M3 in QEMU), real time', ['--seed', '7', '--firmware', 'qemu'], { EDN_FW_BUILD_DIR: FIRMWARE_BUILD_DIR }));
