/**
 * Numbers of the wire protocol. PROTOCOL.md is the normative text; every value here is quoted there.
 */

/** The protocol version this codec speaks. HELLO negotiates within the host's accepted range. */
export const PROTOCOL_VERSION = 1;

/**
 * Maximum line length in bytes, excluding the terminating `\n` (and a tolerated `\r`). Every
 * request, event and ERR reply fits with room to spare; the only frame that can reach it is a
 * HELLO reply, whose numeric fields at their widest take 182 bytes, leaving 74 for model, fw and sn
 * together (a device keeps its identity tokens that short; PROTOCOL.md §13). A longer line is
 * TOO_LONG and is discarded up to the next newline; 256 keeps a firmware receive buffer small.
 */
export const MAX_LINE_BYTES = 256;

/** Highest sequence number; the host counts 0..65535 and wraps to 0. */
export const MAX_SEQ = 65535;

/** Highest channel number the format can express (a device reports its own count in HELLO). */
export const MAX_CHANNELS = 8;

/**
 * Device watchdog window: all outputs off within this many ms of the last valid frame
 * (docs/CLINICAL.md#loss-of-host). A device reports its own value in HELLO (`wdog`);
 * it may be shorter, never longer.
 */
export const WATCHDOG_MS = 1000;

/**
 * The device replies to a valid frame within this many ms of receiving its final `\n`. The host's
 * ack timeout (src/device) is chosen from it.
 */
export const DEVICE_REPLY_MS = 50;

/** Maximum length of one argument value and of a key. */
export const MAX_VALUE_CHARS = 64;
export const MAX_KEY_CHARS = 12;
