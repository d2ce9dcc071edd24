/*
 * The device side of the EDN wire protocol (PROTOCOL.md §6 to §12): the state machine (§9), the
 * compiled limits (§13, edn_limits.h), amplitude slewing and the program duration on the device's
 * own clock (§6.3, §6.4), the watchdog (§11), the latched e-stop (§6.6), the retry store (§12.3),
 * the unsolicited events and the rate limit of `! ERR` (§7.3, §12.4).
 *
 * Everything is in one statically allocated struct: no heap, no recursion, no floating point.
 */
#ifndef EDN_DEVICE_H
#define EDN_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edn_codec.h"
#include "edn_config.h"
#include "edn_limits.h"
#include "edn_rx.h"

typedef struct {
    const char *model; /* HELLO model, fw, sn: tokens of 1..32 [A-Za-z0-9._-], 74 together (§6.1) */
    const char *fw;
    const char *sn;
    uint8_t channels;    /* 1..EDN_MAX_CHANNELS */
    edn_limits_t limits; /* no wider than edn_compiled_limits (edn_limits_check) */
} edn_config_t;

/* One output channel (§9). */
typedef struct {
    uint8_t state; /* edn_ch_state_t */
    edn_program_t prog; /* valid while STAGED or ON */
    uint32_t start_rank; /* order of the last START among channels (DONE / TEL order at one instant) */
    uint32_t done_ms, next_tel_ms;
    /* The set point rises from seg_base_ua at seg_at_ms at `ramp` uA/s, never above target_ua. */
    uint32_t target_ua, seg_base_ua, seg_at_ms;
    uint32_t applied_ua; /* last amplitude given to the output stage */
    uint32_t reported_ua, reported_at_ms; /* last EDN_EV_OUTPUT (observability only) */
} edn_channel_t;

typedef struct {
    uint32_t frames_ok;     /* valid frames answered OK (repeats included) */
    uint32_t rejected[EDN_E_COUNT]; /* lines refused, by code */
    uint32_t suppressed;    /* `! ERR` not sent because of the rate limit (§12.4) */
    uint32_t repeats;       /* byte-identical retries answered from the retry store (§12.3) */
    uint32_t dropped_lines; /* lines that did not fit 256 bytes (never sent; 0 by the §13 budget) */
} edn_counters_t;

typedef struct {
    edn_config_t cfg;
    edn_rx_t rx;
    uint32_t boot_id;
    uint32_t boot_ms;
    uint32_t next_tick_ms;
    uint32_t last_valid_ms; /* arrival of the last valid frame's LF (§11) */
    uint8_t latched;        /* §6.6 */
    uint8_t session;        /* a host session exists (§9) */
    uint32_t next_rank;
    /* Set (to 1) only by edn_fault_isr, cleared only by edn_poll: one flag each, so no
     * read-modify-write is shared between the interrupt and the main context. */
    volatile uint8_t isr_overcurrent;
    volatile uint8_t isr_internal;
    /* §12.3 the stored pair: the last executed request line (without CR) and its reply. */
    uint16_t stored_req_len;  /* 0: nothing stored */
    uint16_t stored_reply_len;
    uint8_t stored_code;      /* edn_error_t of the stored reply (EDN_E_NONE: OK) */
    uint8_t stored_req[EDN_MAX_LINE];
    uint8_t stored_reply[EDN_MAX_LINE + 1u];
    /* §12.4: when the last unsolicited ERR lines were sent (a ring of 10). */
    uint32_t err_times[EDN_UNSOLICITED_ERR_LIMIT];
    uint8_t err_count, err_next;
    edn_line_t tx;
    edn_channel_t ch[EDN_MAX_CHANNELS];
    edn_counters_t counters;
} edn_device_t;

/* Power-up or reset (§9): every output off, no session, not latched, a new boot id, `! BOOT`.
 * Returns false (and does nothing) when the configuration is not valid: bad tokens, a HELLO reply
 * that would not fit, channels out of range, limits wider than the compiled ones. */
bool edn_init(edn_device_t *d, const edn_config_t *cfg);

/* Bytes received from the host, in any chunking. */
void edn_rx(edn_device_t *d, const uint8_t *bytes, size_t n);

/* Run the device's clock: call at least every millisecond (and it is harmless more often). Applies
 * the set points, ends programs whose duration elapsed, sends TEL, runs the 10 ms control tick
 * (watchdog, open circuit, compliance) and acts on faults raised by edn_fault_isr. */
void edn_poll(edn_device_t *d);

/* From an interrupt (over-current comparator, supervisor): every output off now through
 * edn_hal_output_all_off; the FAULT ch=0 line, the latch and the state change follow at the next
 * edn_poll. `code` is EDN_FAULT_OVERCURRENT or EDN_FAULT_INTERNAL. */
void edn_fault_isr(edn_device_t *d, uint8_t code);

/* The present amplitude set point of channel ch (1-based; 0 unless ON), uA. */
uint32_t edn_setpoint(const edn_device_t *d, uint8_t ch, uint32_t now);

#endif
