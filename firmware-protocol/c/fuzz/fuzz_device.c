/*
 * libFuzzer target: the whole device (core/edn_device.c on the simulated stage) driven by any
 * byte stream, with the safety properties checked at the HAL, i.e. at what would reach the output
 * stage, on every call (abort on a violation):
 * - output starts only with a host session, unlatched, with a program inside every compiled limit
 *   (frequencies, pulse width, amplitude, duration, ramp, charge per phase: PROTOCOL.md §13);
 * - an amplitude never exceeds the channel's programmed target or amax, and never rises faster than
 *   the program's ramp (slew, §6.3);
 * - after an all-off, a channel has no amplitude until it is started again;
 * - every line written is a whole, valid device line of at most 256 bytes (§2.2, §4), decoded by
 *   the firmware's own host-direction decoder;
 * - the output is off whenever the device has been latched or has no session.
 * The input: bytes go to the receiver, except 0xFE n (the clock advances n x 7 ms, the device
 * polled every 5 ms of it: late polls are part of what it must survive) and 0xFD n (a board fault: n selects open / load change / over-current / internal /
 * stage failure / reset).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/edn_codec.h"
#include "core/edn_device.h"
#include "hal.h"
#include "ports/sim-stage/sim_stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static edn_device_t dev;
static sim_stage_t stage;
static uint32_t now;
static uint32_t boot_counter;

typedef struct {
    int on;
    uint32_t ua, at, target, ramp;
} shadow_t;
static shadow_t sh[EDN_MAX_CHANNELS + 1];

static void check(int ok)
{
    if (!ok) abort();
}

uint32_t edn_hal_millis(void) { return now; }

void edn_hal_uart_write(const uint8_t *data, size_t len)
{
    check(len >= 1u && len <= EDN_MAX_LINE + 1u && data[len - 1u] == '\n');
    for (size_t i = 0; i + 1u < len; i++) check(data[i] >= 0x20u && data[i] <= 0x7Eu);
    edn_decode_t r;
    check(edn_decode(data, len - 1u, NULL, &r) == EDN_E_NONE && r.kind != EDN_MSG_REQUEST);
}

bool edn_hal_output_start(uint8_t ch, const edn_program_t *p)
{
    const edn_limits_t *L = &edn_compiled_limits;
    check(ch >= 1u && ch <= dev.cfg.channels && dev.session && !dev.latched);
    check(p->f >= L->fmin && p->f <= L->fmax && p->pw >= L->pwmin && p->pw <= L->pwmax);
    check(p->amp >= L->amin && p->amp <= L->amax && (uint64_t)p->amp * p->pw <= (uint64_t)dev.cfg.limits.qmax * 1000u);
    check(p->dur >= 1u && p->dur <= L->tmax && p->ramp >= 1u && p->ramp <= L->slew);
    if (p->mode != EDN_MODE_CONT) check(p->f2 >= L->fmin && p->f2 <= L->fmax);
    bool ok = sim_stage_start(&stage, ch, p, now);
    if (ok) sh[ch] = (shadow_t){1, 0, now, p->amp, p->ramp};
    return ok;
}

void edn_hal_output_amplitude(uint8_t ch, uint32_t ua)
{
    check(ch >= 1u && ch <= dev.cfg.channels && sh[ch].on);
    check(ua <= edn_compiled_limits.amax);
    /* The target may change by AMP: the core's own channel target is the bound. */
    check(ua <= dev.ch[ch - 1u].target_ua || ua <= sh[ch].ua);
    if (ua > sh[ch].ua) {
        uint64_t allowed = (uint64_t)dev.ch[ch - 1u].prog.ramp * (uint32_t)(now - sh[ch].at) / 1000u + 1u;
        check((uint64_t)(ua - sh[ch].ua) <= allowed);
    }
    sh[ch].ua = ua;
    sh[ch].at = now;
    sim_stage_amplitude(&stage, ch, ua, now);
}

void edn_hal_output_disable(uint8_t ch)
{
    check(ch >= 1u && ch <= dev.cfg.channels);
    sh[ch].on = 0;
    sh[ch].ua = 0;
    sim_stage_disable(&stage, ch, now);
}

void edn_hal_output_all_off(void)
{
    for (unsigned i = 0; i <= EDN_MAX_CHANNELS; i++) sh[i].on = 0, sh[i].ua = 0;
    sim_stage_all_off(&stage, now);
}

void edn_hal_measure(uint8_t ch, edn_measure_t *m) { sim_stage_measure(&stage, ch, now, m); }
bool edn_hal_impedance(uint8_t ch, uint32_t *z) { return sim_stage_impedance(&stage, ch, z); }
uint32_t edn_hal_random32(void) { return 0x9E3779B9u * ++boot_counter; }
void edn_hal_event(const edn_event_t *e) { check(e->kind <= EDN_EV_REJECTED); }

static void after_each_step(void)
{
    for (uint8_t ch = 1; ch <= dev.cfg.channels; ch++) {
        if (dev.latched || !dev.session) check(!sh[ch].on);
        check(dev.ch[ch - 1u].state <= EDN_CH_DONE);
        if (dev.ch[ch - 1u].state != EDN_CH_ON) check(!sh[ch].on);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static edn_config_t cfg;
    memset(&dev, 0, sizeof dev);
    memset(sh, 0, sizeof sh);
    now = 1000u;
    cfg.model = "FUZZ";
    cfg.fw = "1.0.0";
    cfg.sn = "F-1";
    cfg.channels = 4;
    cfg.limits = edn_compiled_limits;
    if (size > 0u && (data[0] & 1u) != 0u) cfg.limits.qmax = 3000u; /* CHARGE reachable */
    sim_stage_init(&stage, cfg.channels, SIM_STAGE_DEFAULT_LOAD, 1u, cfg.limits.vc);
    check(edn_init(&dev, &cfg));
    size_t i = 0;
    while (i < size) {
        uint8_t b = data[i++];
        if (b == 0xFEu && i < size) {
            uint32_t steps = data[i++];
            for (uint32_t k = 0; k < steps * 7u; k += 5u) {
                now += 5u;
                edn_poll(&dev);
            }
        } else if (b == 0xFDu && i < size) {
            uint8_t f = data[i++];
            uint8_t ch = (uint8_t)(1u + (f >> 4) % cfg.channels);
            switch (f % 6u) {
            case 0: sim_stage_set_load(&stage, ch, EDN_Z_OPEN, now); break;
            case 1: sim_stage_set_load(&stage, ch, (uint32_t)f * 4000u, now); break;
            case 2: edn_fault_isr(&dev, EDN_FAULT_OVERCURRENT); break;
            case 3: edn_fault_isr(&dev, EDN_FAULT_INTERNAL); break;
            case 4: stage.fail_next = 1u + (f >> 4); break;
            default: check(edn_init(&dev, &cfg)); break;
            }
            edn_poll(&dev);
        } else {
            edn_rx(&dev, &b, 1u);
        }
        after_each_step();
    }
    return 0;
}
