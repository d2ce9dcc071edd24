/*
 * The hardware abstraction layer: everything the portable core (core/) needs from a board, and
 * nothing else. A board maker implements these functions (PORTING.md gives the timing each must
 * meet) and calls the core's four entry points (core/edn_device.h): edn_init at power-up,
 * edn_rx with received bytes, edn_poll at least every millisecond, edn_fault_isr from the
 * over-current / supervisor interrupt.
 *
 * The core is single-threaded: every HAL function below is called from the context that calls
 * edn_init / edn_rx / edn_poll, except edn_hal_output_all_off, which edn_fault_isr also calls from
 * interrupt context.
 *
 * What stays in hardware (PORTING.md, "Safety duties that stay in hardware"): an independent
 * current limit on every output and an independent hardware watchdog that removes output power
 * if this firmware stops running. The core's limits and watchdog are a second line, not the only.
 */
#ifndef EDN_HAL_H
#define EDN_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/edn_types.h"

/* ---- time --------------------------------------------------------------------------------- */

/* Milliseconds since power-up from a monotonic hardware clock; wraps at 2^32 (the core uses
 * wrap-safe differences). Accurate to +-0.1% (PROTOCOL.md §12.5). */
uint32_t edn_hal_millis(void);

/* ---- UART (PROTOCOL.md §2.1: 115200 8N1, no flow control) ---------------------------------- */

/* Queue `len` bytes (one whole line, at most 257 with its LF) for transmission and return without
 * waiting for the wire. Bytes must go out in order and none may be dropped. Received bytes are
 * given to the core with edn_rx(), from the main context (not from the RX interrupt). */
void edn_hal_uart_write(const uint8_t *data, size_t len);

/* ---- the output stage, per channel (1..channels) -------------------------------------------- */

/* Start pulses on channel `ch` with the pulse parameters of `p` (pattern, frequencies, pulse width
 * per phase, waveform: always biphasic and charge-balanced), at amplitude 0. `p->amp` is only the
 * target: the core raises the amplitude with edn_hal_output_amplitude at the programmed ramp.
 * Returns false when the stage did not accept or did not confirm the parameters; the core then
 * calls edn_hal_output_disable(ch), answers ERR code=INTERNAL and keeps the channel STAGED. */
bool edn_hal_output_start(uint8_t ch, const edn_program_t *p);

/* Set the amplitude (peak current of the cathodic phase, uA) of an enabled channel. Called
 * whenever the core's set point changes (at most once per edn_poll). Takes effect from the next
 * pulse. */
void edn_hal_output_amplitude(uint8_t ch, uint32_t ua);

/* Stop pulses on `ch` now (within the current pulse) and set its amplitude to 0. */
void edn_hal_output_disable(uint8_t ch);

/* Every output off at once, by the shortest path the board has (e.g. one GPIO that cuts the
 * output stage's supply). Must be safe to call from an interrupt and at any time. */
void edn_hal_output_all_off(void);

/* ---- measurements --------------------------------------------------------------------------- */

typedef struct {
    uint32_t i_ua; /* peak current of the most recent cathodic phase, uA (0 when off) */
    uint32_t z_ohm; /* load impedance, ohm, or EDN_Z_OPEN when no current path is found */
    uint32_t q_nc; /* cathodic charge delivered since the channel was enabled, nC (saturating) */
} edn_measure_t;

/* Latest measurements of `ch`. Called for each ON channel every 10 ms and at each TEL. */
void edn_hal_measure(uint8_t ch, edn_measure_t *m);

/* Measure the load of an OFF channel with a sub-sensory test pulse (100 uA, 50 us; PROTOCOL.md
 * §6.10). *z: ohm, or EDN_Z_OPEN. false: the measurement failed (ERR code=INTERNAL). */
bool edn_hal_impedance(uint8_t ch, uint32_t *z);

/* ---- identity --------------------------------------------------------------------------- */

/* 32 random bits for the boot id (PROTOCOL.md §6.1: "random per power-up"): a TRNG, or a
 * non-volatile boot counter mixed with a unique device id. Called once per edn_init. */
uint32_t edn_hal_random32(void);

/* ---- observability (optional: a board may implement it as an empty function) --------------- */

typedef enum {
    EDN_EV_OUTPUT = 0, /* ch, on, ua: an output switched on or off, or its set point changed */
    EDN_EV_WATCHDOG,   /* the watchdog expired */
    EDN_EV_ESTOP,      /* ESTOP executed */
    EDN_EV_CLEAR,      /* CLEAR executed */
    EDN_EV_FAULT,      /* ch (0: every channel), code (edn_fault_t) */
    EDN_EV_BOOT,       /* boot: the new boot id */
    EDN_EV_DONE,       /* ch: its duration elapsed */
    EDN_EV_REJECTED,   /* code (edn_error_t), line/len: an input line refused */
} edn_event_kind_t;

typedef struct {
    uint8_t kind; /* edn_event_kind_t */
    uint8_t ch;
    uint8_t on;
    uint8_t code;
    uint32_t ua;
    uint32_t boot;
    const uint8_t *line;
    size_t len;
} edn_event_t;

/* What the device did, for a log or a test harness (the host port prints these as the same JSON
 * events as the TypeScript simulator). Must not call back into the core. */
void edn_hal_event(const edn_event_t *e);

#endif
