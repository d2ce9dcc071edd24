/**
 * The session integration suite (test/integration/session-suite.ts), unchanged, against the C
 * firmware's host port: `edn simulate --pty --json --firmware host`, through the real `serialport`
 * package over a socat pseudo-terminal, on real time. The same assertions as against the
 * TypeScript simulator. A missing socat, make or gcc fails the file (it is never skipped).
 */
import { beforeAll } from 'vitest';
import { sessionSuite } from '../integration/session-suite.js';
import { requireSocat } from '../support/pty.js';
import { ptyFactory } from '../support/pty-session.js';
import { BUILD_TIMEOUT_MS, FIRMWARE_BUILD_DIR, built } from './support.js';

beforeAll(async () => {
  requireSocat();
  await built('host');
}, BUILD_TIMEOUT_MS);

sessionSuite(ptyFactory('pty: SerialTransport to `edn simulate --firmware host` (the C firmware as a process), real time', ['--seed', '7', '--firmware', 'host'], { EDN_FW_BUILD_DIR: FIRMWARE_BUILD_DIR }));
