/**
 * The session suite (session-suite.ts) over a real pseudo-terminal: the host (runner, client and
 * the real `serialport` package in SerialTransport) in this process, the simulator in its own
 * (`edn simulate --pty --json`, socat making the pair), on real time with the monotonic
 * scheduler (test/support/pty-session.ts). Every wait is for a condition with a bounded deadline;
 * the scenarios run one after another in this file. A missing socat fails the file (it is never
 * skipped).
 */
import { beforeAll } from 'vitest';
import { requireSocat } from '../support/pty.js';
import { ptyFactory } from '../support/pty-session.js';
import { sessionSuite } from './session-suite.js';

beforeAll(() => requireSocat());

sessionSuite(ptyFactory('pty: SerialTransport to `edn simulate --pty` in its own process, real time', ['--seed', '7']));
