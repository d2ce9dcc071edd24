/*
 * EDN reference firmware: the numbers of the wire protocol and of the device's own timing, each
 * with the PROTOCOL.md section it comes from. One place; nothing else in the core spells them.
 *
 * Written from PROTOCOL.md (version 1), not from the TypeScript codec or the host's guard: a
 * second implementation that copied the first would share its bugs.
 */
#ifndef EDN_CONFIG_H
#define EDN_CONFIG_H

/* §10: the only protocol version this firmware speaks (HELLO picks it, BOOT announces it). */
#define EDN_PROTO_MIN 1u
#define EDN_PROTO_MAX 1u

/* §2.2: a line is at most 256 bytes without its LF and a tolerated CR before it; the receive
 * buffer holds 256 + that CR. */
#define EDN_MAX_LINE 256u
#define EDN_RX_BUF (EDN_MAX_LINE + 1u)

/* §4.2 and §5: key and value lengths, the highest seq, text (msg) limits. */
#define EDN_MAX_KEY 12u
#define EDN_MAX_VALUE 64u
#define EDN_MAX_SEQ 65535u
#define EDN_MAX_MSG_TEXT 48u /* decoded characters */

/* §6: the wire format allows ch 1..8 (HELLO ch, STATUS s1..s8): a `ch` above the device's own
 * count is RANGE, above 8 BAD_ARG. */
#define EDN_WIRE_MAX_CHANNELS 8u

/* The most channels this build supports (every per-channel array is this size, so no build needs
 * a heap). A board with fewer outputs builds with -DEDN_MAX_CHANNELS=<n> to save RAM. */
#ifndef EDN_MAX_CHANNELS
#define EDN_MAX_CHANNELS 8u
#endif
#if EDN_MAX_CHANNELS < 1 || EDN_MAX_CHANNELS > 8
#error "EDN_MAX_CHANNELS must be 1..8"
#endif

/* §6.1: model, fw and sn together at most 74 characters, so that the widest HELLO reply fits
 * 256 bytes (§13 budget: 182 bytes of numeric fields). Each token is 1..32 characters (§5). */
#define EDN_MAX_IDENTITY 74u
#define EDN_MAX_TOKEN 32u

/* §11: the device checks its watchdog at least every 10 ms, measuring from the last valid
 * frame's LF: it trips at or after wdog ms and before wdog + this period. The same control tick
 * checks compliance and open circuit (§7.3) and reports set-point changes to the port. Ticks run
 * at boot + k * 10 ms. */
#define EDN_TICK_MS 10u

/* §7.3: TEL every 100 ms for each ON channel, the first 100 ms after START. */
#define EDN_TEL_PERIOD_MS 100u

/* §12.4: at most 10 unsolicited `! ERR` lines in any 1000 ms; further ones are only counted. */
#define EDN_UNSOLICITED_ERR_LIMIT 10u
#define EDN_UNSOLICITED_ERR_WINDOW_MS 1000u

/* §6.10: the impedance test pulse, 100 uA for 50 us (far below sensory threshold). The load
 * reads OPEN when even this current would need more than the compliance voltage. */
#define EDN_IMP_TEST_UA 100u
#define EDN_IMP_TEST_US 50u

/* §7.3 ASYM: the anodic phase lasts this many times the cathodic width (at 1/ratio of the
 * amplitude), so one ASYM pulse lasts pw * (1 + ratio). Used by the pulse-overlap check of §6.2. */
#define EDN_ASYM_RATIO 4u

/* Port observability (not on the wire): a slewing set point is reported to the port at most once
 * per this many ms per channel, plus its final value (edn_hal_event, EDN_EV_OUTPUT). */
#define EDN_OUTPUT_REPORT_MS 100u

#endif
