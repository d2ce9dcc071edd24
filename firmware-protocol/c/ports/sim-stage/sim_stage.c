/* The simulated output stage and load (see sim_stage.h). */
#include "sim_stage.h"

uint32_t sim_mulberry32(uint32_t *state)
{
    *state += 0x6D2B79F5u;
    uint32_t t = *state;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return t ^ (t >> 14);
}

uint32_t sim_stream_seed(uint32_t seed, uint32_t purpose) { return (seed * 0x9E3779B1u) ^ purpose; }

/* Math.round(nominal * (1 + (2u/2^32 - 1) * 0.03)) in exact integers:
 * nominal + 3 * nominal * (2u - 2^32) / (100 * 2^32), rounded half up. */
static uint32_t noisy_load(uint32_t nominal, uint32_t u)
{
    const int64_t two32 = (int64_t)1 << 32;
    int64_t num = 3 * (int64_t)nominal * (2 * (int64_t)u - two32);
    int64_t den = 100 * two32;
    int64_t scaled = (int64_t)nominal * den + num; /* value * den */
    int64_t v = (2 * scaled + den) / (2 * den);    /* floor(value + 1/2), value > 0 */
    if (v > (int64_t)SIM_STAGE_MAX_LOAD) v = SIM_STAGE_MAX_LOAD;
    return (uint32_t)v;
}

void sim_stage_init(sim_stage_t *s, uint8_t channels, uint32_t nominal, uint32_t seed, uint32_t vc)
{
    uint32_t rng = sim_stream_seed(seed, 0x10ADu);
    s->channels = channels;
    s->vc = vc;
    s->fail_next = 0;
    s->starts = s->disables = s->all_offs = 0;
    for (unsigned i = 0; i < EDN_MAX_CHANNELS; i++) {
        sim_stage_channel_t *c = &s->ch[i];
        c->on = 0;
        c->amp = 0;
        c->enabled_ms = 0;
        c->charge_pc = 0;
        c->pulses = 0;
        c->load = i < channels ? noisy_load(nominal, sim_mulberry32(&rng)) : nominal;
    }
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1u) / b; }

/* Pulses of `p` whose onset (us since enable, rounded down) is before t_us (src/simulator
 * waveform.ts pulseOnsetsUs, counted instead of listed). */
static uint64_t pulses_before(const edn_program_t *p, uint64_t t)
{
    const uint64_t G = 1000000000u; /* one period is G / f us (f in mHz) */
    if (t == 0u) return 0;
    switch (p->mode) {
    case EDN_MODE_DD: {
        uint64_t dwell = (uint64_t)p->dwell * 1000u;
        uint64_t full = t / dwell;
        uint64_t in_f = ceil_div(dwell * p->f, G), in_f2 = ceil_div(dwell * p->f2, G);
        uint64_t n = (full / 2u + full % 2u) * in_f + (full / 2u) * in_f2;
        uint64_t rest = t - full * dwell;
        return n + ceil_div(rest * ((full % 2u) == 0u ? p->f : p->f2), G);
    }
    case EDN_MODE_BURST: {
        uint64_t bursts = ceil_div(t * p->f, G); /* bursts that started before t */
        uint64_t last = (bursts - 1u) * G / p->f;
        uint64_t in_last = ceil_div((t - last) * p->f2, G);
        if (in_last > p->n) in_last = p->n;
        return (bursts - 1u) * p->n + in_last;
    }
    default: return ceil_div(t * p->f, G);
    }
}

static uint32_t delivered(const sim_stage_t *s, const sim_stage_channel_t *c)
{
    if (!c->on || c->load == EDN_Z_OPEN) return 0;
    if (c->load == 0u) return c->amp;
    uint64_t clip = (uint64_t)s->vc * 1000000u / c->load;
    return clip < c->amp ? (uint32_t)clip : c->amp;
}

/* Count the pulses up to now at the present current. */
static void accrue(sim_stage_t *s, sim_stage_channel_t *c, uint32_t now_ms)
{
    if (!c->on) return;
    uint64_t t = (uint64_t)(uint32_t)(now_ms - c->enabled_ms) * 1000u;
    uint64_t total = pulses_before(&c->prog, t); /* onsets before now, as the simulator counts */
    if (total > c->pulses) {
        c->charge_pc += (total - c->pulses) * delivered(s, c) * c->prog.pw;
        c->pulses = total;
    }
}

static sim_stage_channel_t *chan(sim_stage_t *s, uint8_t ch)
{
    return (ch >= 1u && ch <= s->channels) ? &s->ch[ch - 1u] : &s->ch[0];
}

bool sim_stage_start(sim_stage_t *s, uint8_t ch, const edn_program_t *p, uint32_t now_ms)
{
    sim_stage_channel_t *c = chan(s, ch);
    if (s->fail_next > 0u) {
        s->fail_next--;
        return false;
    }
    s->starts++;
    c->prog = *p;
    c->on = 1;
    c->amp = 0;
    c->enabled_ms = now_ms;
    c->charge_pc = 0;
    c->pulses = 0;
    return true;
}

void sim_stage_amplitude(sim_stage_t *s, uint8_t ch, uint32_t ua, uint32_t now_ms)
{
    sim_stage_channel_t *c = chan(s, ch);
    accrue(s, c, now_ms);
    c->amp = ua;
}

void sim_stage_disable(sim_stage_t *s, uint8_t ch, uint32_t now_ms)
{
    sim_stage_channel_t *c = chan(s, ch);
    accrue(s, c, now_ms);
    s->disables++;
    c->on = 0;
    c->amp = 0;
}

void sim_stage_all_off(sim_stage_t *s, uint32_t now_ms)
{
    s->all_offs++;
    for (uint8_t ch = 1; ch <= s->channels; ch++) {
        sim_stage_channel_t *c = &s->ch[ch - 1u];
        accrue(s, c, now_ms);
        c->on = 0;
        c->amp = 0;
    }
}

void sim_stage_measure(sim_stage_t *s, uint8_t ch, uint32_t now_ms, edn_measure_t *m)
{
    sim_stage_channel_t *c = chan(s, ch);
    accrue(s, c, now_ms);
    uint64_t nc = c->charge_pc / 1000u;
    m->i_ua = delivered(s, c);
    m->z_ohm = c->load;
    m->q_nc = nc > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)nc;
}

bool sim_stage_impedance(sim_stage_t *s, uint8_t ch, uint32_t *z)
{
    if (s->fail_next > 0u) {
        s->fail_next--;
        return false;
    }
    *z = chan(s, ch)->load;
    return true;
}

void sim_stage_set_load(sim_stage_t *s, uint8_t ch, uint32_t load, uint32_t now_ms)
{
    sim_stage_channel_t *c = chan(s, ch);
    accrue(s, c, now_ms);
    c->load = load;
}
