/*
 * The device's own compiled limits (PROTOCOL.md §13, "A device has its limits compiled in and
 * reports them in OK HELLO. It MUST refuse anything outside them, whatever the host sends").
 *
 * These are written from the spec's reference device (§13) and the format ranges of §6.1; they
 * are NOT derived from the host's guard (src/domain/safety): the host's checks and these are two
 * independent lines of defence, and a mistake in one must not be copied into the other.
 *
 * A board may narrow them at start-up (a lower compliance voltage, a smaller charge per phase, a
 * shorter watchdog) through edn_config_t; edn_limits_check() refuses any value that is wider than
 * the compiled ceiling, so a configuration error can only make the device more conservative.
 */
#ifndef EDN_LIMITS_H
#define EDN_LIMITS_H

#include <stdint.h>

typedef struct {
    uint32_t fmin;  /* mHz: lowest pulse / burst frequency */
    uint32_t fmax;  /* mHz: highest pulse, dense or intra-burst frequency */
    uint32_t pwmin; /* us per phase */
    uint32_t pwmax; /* us per phase */
    uint32_t amin;  /* uA */
    uint32_t amax;  /* uA */
    uint32_t qmax;  /* nC per phase: CHARGE when amp * pw > 1000 * qmax (§6.2) */
    uint32_t tmax;  /* s: longest program */
    uint32_t vc;    /* V: compliance voltage */
    uint32_t wdog;  /* ms: watchdog window (§11), never above 1000 */
    uint32_t slew;  /* uA/s: fastest amplitude rise; a SET ramp above it is RANGE (§6.2) */
} edn_limits_t;

/* §13 reference device. */
/* 1 Hz: the lowest rate the reference device offers (§13). */
#define EDN_LIMIT_FMIN 1000u
/* 150 Hz: the top of conventional TENS rates (§13); the format would allow 1 kHz. */
#define EDN_LIMIT_FMAX 150000u
/* 50 us per phase (§13). */
#define EDN_LIMIT_PWMIN 50u
/* 600 us per phase (§13). */
#define EDN_LIMIT_PWMAX 600u
/* 0 uA: a channel may run at zero while the clinician titrates up (§13). */
#define EDN_LIMIT_AMIN 0u
/* 20 mA (§13). */
#define EDN_LIMIT_AMAX 20000u
/* 12000 nC = 20 mA x 600 us: the largest phase the two limits above allow (§6.1, §13). */
#define EDN_LIMIT_QMAX 12000u
/* 3600 s: a program longer than an hour is refused; the device ends every program itself. */
#define EDN_LIMIT_TMAX 3600u
/* 80 V compliance (§13). */
#define EDN_LIMIT_VC 80u
/* 1000 ms: WATCHDOG_MS, the longest window a device may report (§11). */
#define EDN_LIMIT_WDOG 1000u
/* 1000 uA/s = 1 mA/s: the reference slew limit (§13; not reported in version 1 HELLO). */
#define EDN_LIMIT_SLEW 1000u

/* The compiled ceilings above, as one value. */
extern const edn_limits_t edn_compiled_limits;

/* 0 when `l` is a device that can exist and is nowhere wider than the compiled ceilings
 * (lower bounds no lower, upper bounds no higher, min <= max); else the 1-based index of the
 * first offending field in the struct order above. */
int edn_limits_check(const edn_limits_t *l);

#endif
