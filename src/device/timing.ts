/**
 * The host's protocol timing. One place, with the reasoning; PROTOCOL.md §9 quotes these.
 */
import { DEVICE_REPLY_MS, MAX_LINE_BYTES, WATCHDOG_MS } from '../../firmware-protocol/index.js';

/** Time on the wire for one maximal line at 115200 baud 8N1 (10 bits a byte): ~22 ms. */
export const MAX_LINE_WIRE_MS = ((MAX_LINE_BYTES + 1) * 10 * 1000) / 115_200;

/**
 * How long the host waits for a reply before re-sending the same line: 200 ms. The device answers
 * within DEVICE_REPLY_MS (50 ms) of a line's end; a maximal request and a maximal reply take ~22 ms
 * each on the wire; the rest (~100 ms) absorbs USB-serial latency (FTDI-style adapters buffer up to
 * 16 ms) and a busy host event loop.
 */
export const ACK_TIMEOUT_MS = 200;

/**
 * Re-sends after the first attempt: 3, so a request is given up on after 4 x 200 = 800 ms, inside
 * the device's 1000 ms watchdog window; the session learns of a dead link before the device stops
 * output on its own, and can say why.
 */
export const ACK_RETRIES = 3;

/** The longest a request can wait for its reply before it is reported as AckTimeout. */
export const ACK_GIVE_UP_MS = ACK_TIMEOUT_MS * (ACK_RETRIES + 1);

/** Checked at load: the retry budget must end before the watchdog window does. */
if (ACK_GIVE_UP_MS >= WATCHDOG_MS || ACK_TIMEOUT_MS < DEVICE_REPLY_MS + 2 * MAX_LINE_WIRE_MS) {
  throw new Error('device timing constants are inconsistent with the protocol watchdog and reply bounds');
}
