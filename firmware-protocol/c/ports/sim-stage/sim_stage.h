/*
 * A simulated output stage and electrode load, for the ports that have no real hardware (host,
 * mps2-an385 in QEMU) and for the test harnesses. Not part of the core: a board replaces it with
 * its DAC, H-bridge and current sense.
 *
 * The numbers are the TypeScript simulator's load model (src/simulator/limits.ts MODEL): a nominal
 * load of 1500 ohm per channel with +-3% noise drawn once from the seed (mulberry32, the same
 * streams as the simulator, so a host port started with --seed N measures the same loads as
 * `edn simulate --seed N`), the delivered current clipped at vc / load, nothing into OPEN, and the
 * cathodic charge of every pulse counted from the pulse pattern. Integer arithmetic only.
 */
#ifndef EDN_SIM_STAGE_H
#define EDN_SIM_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/edn_config.h"
#include "core/edn_types.h"
#include "hal.h"

#define SIM_STAGE_DEFAULT_LOAD 1500u /* ohm: needle pairs in muscle measure about 1-2 kOhm */
#define SIM_STAGE_MAX_LOAD 9999999u  /* the widest value the wire's ohm field carries */

typedef struct {
    uint32_t load; /* ohm, or EDN_Z_OPEN */
    uint8_t on;
    edn_program_t prog;
    uint32_t amp;          /* applied set point, uA */
    uint32_t enabled_ms;   /* when the pulses started */
    uint64_t charge_pc;    /* cathodic charge since enable, pC (uA x us) */
    uint64_t pulses;       /* pulses since enable */
} sim_stage_channel_t;

typedef struct {
    sim_stage_channel_t ch[EDN_MAX_CHANNELS];
    uint8_t channels;
    uint32_t vc;        /* compliance voltage, V: the current clips at vc / load */
    uint32_t fail_next; /* the next N output starts / impedance tests fail (provokes ERR INTERNAL) */
    uint32_t starts, disables, all_offs; /* what the stage was told, for the register-level stub */
} sim_stage_t;

/* mulberry32, as src/simulator/random.ts: state, next value in 0..2^32-1. */
uint32_t sim_mulberry32(uint32_t *state);
/* The simulator's per-purpose stream seed: imul(seed, 0x9E3779B1) ^ purpose. */
uint32_t sim_stream_seed(uint32_t seed, uint32_t purpose);

/* Loads of `channels` channels around `nominal` ohm from `seed`; compliance `vc`. */
void sim_stage_init(sim_stage_t *s, uint8_t channels, uint32_t nominal, uint32_t seed, uint32_t vc);

bool sim_stage_start(sim_stage_t *s, uint8_t ch, const edn_program_t *p, uint32_t now_ms);
void sim_stage_amplitude(sim_stage_t *s, uint8_t ch, uint32_t ua, uint32_t now_ms);
void sim_stage_disable(sim_stage_t *s, uint8_t ch, uint32_t now_ms);
void sim_stage_all_off(sim_stage_t *s, uint32_t now_ms);
void sim_stage_measure(sim_stage_t *s, uint8_t ch, uint32_t now_ms, edn_measure_t *m);
bool sim_stage_impedance(sim_stage_t *s, uint8_t ch, uint32_t *z);
/* A load change (fault injection): ohm or EDN_Z_OPEN. */
void sim_stage_set_load(sim_stage_t *s, uint8_t ch, uint32_t load, uint32_t now_ms);

#endif
