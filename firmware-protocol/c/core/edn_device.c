/*
 * The device (PROTOCOL.md §6 to §12). Read edn_device.h first.
 *
 * Time: every timestamp is edn_hal_millis() (u32 ms, wrapping); every comparison is a wrap-safe
 * difference, so the device runs across the 49.7-day wrap. Deadlines on the device clock:
 *   - the control tick at boot + k * 10 ms (§11): watchdog, open circuit, compliance;
 *   - TEL at START + k * 100 ms (§7.3);
 *   - DONE at START + dur * 1000 ms (§6.3).
 * When several fall on the same millisecond they run in this order: DONE, then TEL (each in the
 * order the channels were started), then the control tick (channels in number order). A line that
 * arrives in that millisecond is handled after them (the port polls before it feeds bytes).
 */
#include "edn_device.h"

#include "edn_crc.h"
#include "hal.h"

static bool reached(uint32_t now, uint32_t at) { return (uint32_t)(now - at) < 0x80000000u; }

static void mem_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

static bool mem_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

static size_t str_len(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

/* ---- events and lines ---------------------------------------------------------------------- */

static void event(uint8_t kind, uint8_t ch, uint8_t on, uint8_t code, uint32_t ua, uint32_t boot,
                  const uint8_t *line, size_t len)
{
    edn_event_t e;
    e.kind = kind;
    e.ch = ch;
    e.on = on;
    e.code = code;
    e.ua = ua;
    e.boot = boot;
    e.line = line;
    e.len = len;
    edn_hal_event(&e);
}

static void report_output(edn_device_t *d, edn_channel_t *c, uint8_t ch, bool on, uint32_t ua, uint32_t now)
{
    (void)d;
    c->reported_ua = ua;
    c->reported_at_ms = now;
    event(EDN_EV_OUTPUT, ch, on ? 1u : 0u, 0, ua, 0, NULL, 0);
}

/* Finish d->tx and write it. */
static void send(edn_device_t *d)
{
    size_t n = edn_line_end(&d->tx);
    if (n == 0u) {
        d->counters.dropped_lines++;
        return;
    }
    edn_hal_uart_write(d->tx.b, n);
}

/* §12.4: at most 10 `! ERR` in any 1000 ms; the rest are counted. */
static void unsolicited_err(edn_device_t *d, uint8_t code, uint32_t now)
{
    if (d->err_count >= EDN_UNSOLICITED_ERR_LIMIT) {
        uint32_t oldest = d->err_times[d->err_next];
        if ((uint32_t)(now - oldest) < EDN_UNSOLICITED_ERR_WINDOW_MS) {
            d->counters.suppressed++;
            return;
        }
    } else {
        d->err_count++;
    }
    d->err_times[d->err_next] = now;
    d->err_next = (uint8_t)((d->err_next + 1u) % EDN_UNSOLICITED_ERR_LIMIT);
    edn_enc_err(&d->tx, false, 0, code, NULL);
    send(d);
}

/* ---- the output model ------------------------------------------------------------------------ */

uint32_t edn_setpoint(const edn_device_t *d, uint8_t ch, uint32_t now)
{
    const edn_channel_t *c = &d->ch[ch - 1u];
    if (c->state != EDN_CH_ON) return 0;
    if (c->target_ua <= c->seg_base_ua) return c->target_ua;
    /* §6.3, §6.4: base + floor(ramp * (t - t0) / 1000), never above the target. The product is
     * compared in 64 bits, so it is divided only while below rise * 1000 <= 10^8 (fits 32 bits). */
    uint32_t dt = now - c->seg_at_ms;
    if (dt >= 0x80000000u) dt = 0;
    uint32_t rise = c->target_ua - c->seg_base_ua;
    uint64_t risen = (uint64_t)c->prog.ramp * dt;
    if (risen >= (uint64_t)rise * 1000u) return c->target_ua;
    return c->seg_base_ua + (uint32_t)risen / 1000u;
}

/* Output off (if it was on) and program discarded: the channel becomes `to` (§9). */
static void switch_off(edn_device_t *d, uint8_t ch, uint8_t to, uint32_t now)
{
    edn_channel_t *c = &d->ch[ch - 1u];
    bool was_on = c->state == EDN_CH_ON;
    if (was_on) edn_hal_output_disable(ch);
    c->state = to;
    c->target_ua = 0;
    c->seg_base_ua = 0;
    c->applied_ua = 0;
    if (was_on) report_output(d, c, ch, false, 0, now);
}

/* Every output off at once (the hard path first), every program discarded: all channels OFF (§9). */
static void all_off(edn_device_t *d, uint32_t now)
{
    edn_hal_output_all_off();
    for (uint8_t ch = 1; ch <= d->cfg.channels; ch++) switch_off(d, ch, EDN_CH_OFF, now);
}

static void forget_stored(edn_device_t *d)
{
    d->stored_req_len = 0;
    d->stored_reply_len = 0;
}

/* ---- boot ------------------------------------------------------------------------------------ */

static bool token_ok(const char *s)
{
    size_t n = str_len(s);
    if (n < 1u || n > EDN_MAX_TOKEN) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-')) return false;
    }
    return true;
}

bool edn_init(edn_device_t *d, const edn_config_t *cfg)
{
    if (cfg->channels < 1u || cfg->channels > EDN_MAX_CHANNELS) return false;
    if (!token_ok(cfg->model) || !token_ok(cfg->fw) || !token_ok(cfg->sn)) return false;
    if (str_len(cfg->model) + str_len(cfg->fw) + str_len(cfg->sn) > EDN_MAX_IDENTITY) return false;
    if (edn_limits_check(&cfg->limits) != 0) return false;

    /* Outputs off before anything else (§9 power-up). */
    edn_hal_output_all_off();
    uint32_t now = edn_hal_millis();
    uint32_t previous = d->boot_id;
    /* Every byte of the state is set here: a reset re-runs edn_init on the same struct. */
    d->cfg = *cfg;
    edn_rx_reset(&d->rx);
    for (uint8_t i = 0; i < EDN_MAX_CHANNELS; i++) {
        edn_channel_t *c = &d->ch[i];
        bool was_on = i < cfg->channels && c->state == EDN_CH_ON;
        c->state = EDN_CH_OFF;
        c->start_rank = 0;
        c->done_ms = c->next_tel_ms = 0;
        c->target_ua = c->seg_base_ua = c->seg_at_ms = c->applied_ua = 0;
        c->reported_ua = 0;
        c->reported_at_ms = now;
        c->prog.ch = (uint8_t)(i + 1u);
        c->prog.mode = c->prog.wf = c->prog.n = 0;
        c->prog.f = c->prog.f2 = c->prog.dwell = c->prog.pw = c->prog.amp = c->prog.dur = c->prog.ramp = 0;
        if (was_on) event(EDN_EV_OUTPUT, (uint8_t)(i + 1u), 0, 0, 0, 0, NULL, 0);
    }
    d->latched = 0;
    d->session = 0;
    d->next_rank = 0;
    d->isr_overcurrent = 0;
    d->isr_internal = 0;
    forget_stored(d);
    d->stored_code = 0;
    d->err_count = 0;
    d->err_next = 0;
    for (unsigned i = 0; i < EDN_UNSOLICITED_ERR_LIMIT; i++) d->err_times[i] = 0;
    d->tx.n = 0;
    d->tx.overflow = 0;
    d->counters.frames_ok = d->counters.suppressed = d->counters.repeats = d->counters.dropped_lines = 0;
    for (unsigned i = 0; i < (unsigned)EDN_E_COUNT; i++) d->counters.rejected[i] = 0;
    d->boot_ms = now;
    d->next_tick_ms = now + EDN_TICK_MS;
    d->last_valid_ms = now;
    /* §6.1: a new boot id per power-up; never the one of the run before (a reset in place). */
    uint32_t id = edn_hal_random32();
    for (unsigned tries = 0; id == previous && tries < 8u; tries++) id = edn_hal_random32();
    if (id == previous) id = previous ^ 0x5A5A5A5Au;
    d->boot_id = id;
    event(EDN_EV_BOOT, 0, 0, 0, 0, id, NULL, 0);
    edn_enc_boot(&d->tx, (uint8_t)EDN_PROTO_MAX, id);
    send(d);
    return true;
}

/* ---- unsolicited device actions ------------------------------------------------------------- */

static void duration_elapsed(edn_device_t *d, uint8_t ch, uint32_t now)
{
    forget_stored(d); /* §12.3: a device MAY forget the stored pair when a channel ends by itself */
    switch_off(d, ch, EDN_CH_DONE, now);
    event(EDN_EV_DONE, ch, 0, 0, 0, 0, NULL, 0);
    edn_enc_done(&d->tx, ch);
    send(d);
}

static void channel_fault(edn_device_t *d, uint8_t ch, uint8_t code, uint32_t now)
{
    forget_stored(d);
    event(EDN_EV_FAULT, ch, 0, code, 0, 0, NULL, 0);
    switch_off(d, ch, EDN_CH_OFF, now);
    edn_enc_fault(&d->tx, ch, code);
    send(d);
}

/* §7.3 OVERCURRENT / INTERNAL: every output off, all OFF, latched (as ESTOP). */
static void global_fault(edn_device_t *d, uint8_t code, uint32_t now)
{
    d->latched = 1;
    forget_stored(d);
    event(EDN_EV_FAULT, 0, 0, code, 0, 0, NULL, 0);
    all_off(d, now);
    edn_enc_fault(&d->tx, 0, code);
    send(d);
}

/* §11: outputs off, programs discarded, session ended, latch kept, `! WDOG`. */
static void trip_watchdog(edn_device_t *d, uint32_t now)
{
    d->session = 0;
    forget_stored(d);
    event(EDN_EV_WATCHDOG, 0, 0, 0, 0, 0, NULL, 0);
    all_off(d, now);
    edn_enc_wdog(&d->tx);
    send(d);
}

/* The 10 ms control tick (§11, §7.3 faults). */
static void tick(edn_device_t *d, uint32_t now)
{
    if (d->session && (uint32_t)(now - d->last_valid_ms) >= d->cfg.limits.wdog) trip_watchdog(d, now);
    for (uint8_t ch = 1; ch <= d->cfg.channels; ch++) {
        edn_channel_t *c = &d->ch[ch - 1u];
        if (c->state != EDN_CH_ON) continue;
        edn_measure_t m;
        edn_hal_measure(ch, &m);
        uint32_t sp = edn_setpoint(d, ch, now);
        if (m.z_ohm == EDN_Z_OPEN) {
            channel_fault(d, ch, EDN_FAULT_OPEN, now);
        } else if ((uint64_t)sp * m.z_ohm > (uint64_t)d->cfg.limits.vc * 1000000u) {
            /* §7.3 COMPLIANCE: set point x load above the compliance voltage (uA x ohm = uV). */
            channel_fault(d, ch, EDN_FAULT_COMPLIANCE, now);
        } else if (sp != c->reported_ua && (sp == c->target_ua || (uint32_t)(now - c->reported_at_ms) >= EDN_OUTPUT_REPORT_MS)) {
            report_output(d, c, ch, true, sp, now);
        }
    }
}

/* Channels that are ON, in the order they were started (for DONE and TEL at the same instant). */
static uint8_t started_order(const edn_device_t *d, uint8_t *order)
{
    uint8_t n = 0;
    for (uint8_t ch = 1; ch <= d->cfg.channels; ch++) {
        if (d->ch[ch - 1u].state == EDN_CH_ON) order[n++] = ch;
    }
    for (uint8_t i = 1; i < n; i++) { /* insertion sort by start rank (at most 8) */
        uint8_t x = order[i];
        uint8_t j = i;
        while (j > 0u && d->ch[order[j - 1u] - 1u].start_rank > d->ch[x - 1u].start_rank) {
            order[j] = order[j - 1u];
            j--;
        }
        order[j] = x;
    }
    return n;
}

void edn_poll(edn_device_t *d)
{
    uint32_t now = edn_hal_millis();
    if (d->isr_overcurrent != 0u) {
        d->isr_overcurrent = 0;
        global_fault(d, EDN_FAULT_OVERCURRENT, now);
    }
    if (d->isr_internal != 0u) {
        d->isr_internal = 0;
        global_fault(d, EDN_FAULT_INTERNAL, now);
    }
    /* The set points of §6.3 / §6.4, applied to the output stage. */
    for (uint8_t ch = 1; ch <= d->cfg.channels; ch++) {
        edn_channel_t *c = &d->ch[ch - 1u];
        if (c->state != EDN_CH_ON) continue;
        uint32_t sp = edn_setpoint(d, ch, now);
        if (sp != c->applied_ua) {
            c->applied_ua = sp;
            edn_hal_output_amplitude(ch, sp);
        }
    }
    uint8_t order[EDN_MAX_CHANNELS];
    uint8_t n = started_order(d, order);
    /* §6.3: the duration, on the device's own clock. */
    for (uint8_t i = 0; i < n; i++) {
        uint8_t ch = order[i];
        if (d->ch[ch - 1u].state == EDN_CH_ON && reached(now, d->ch[ch - 1u].done_ms)) duration_elapsed(d, ch, now);
    }
    /* §7.3: TEL every 100 ms while ON. */
    for (uint8_t i = 0; i < n; i++) {
        uint8_t ch = order[i];
        edn_channel_t *c = &d->ch[ch - 1u];
        if (c->state != EDN_CH_ON || !reached(now, c->next_tel_ms)) continue;
        while (reached(now, c->next_tel_ms)) c->next_tel_ms += EDN_TEL_PERIOD_MS;
        edn_measure_t m;
        edn_hal_measure(ch, &m);
        edn_enc_tel(&d->tx, ch, edn_setpoint(d, ch, now), m.i_ua, m.z_ohm, m.q_nc);
        send(d);
    }
    /* §11: the control tick, at boot + k * 10 ms (once, however late this poll is). */
    if (reached(now, d->next_tick_ms)) {
        while (reached(now, d->next_tick_ms)) d->next_tick_ms += EDN_TICK_MS;
        tick(d, now);
    }
}

void edn_fault_isr(edn_device_t *d, uint8_t code)
{
    edn_hal_output_all_off();
    if (code == EDN_FAULT_OVERCURRENT) d->isr_overcurrent = 1;
    else d->isr_internal = 1;
}

/* ---- requests (§6) --------------------------------------------------------------------------- */

typedef struct {
    uint8_t code; /* EDN_E_NONE: d->tx holds the OK reply */
    char msg[EDN_MAX_MSG_TEXT + 1u];
} outcome_t;

static uint8_t refuse(outcome_t *o, uint8_t code, const char *msg)
{
    edn_text_t t;
    o->code = code;
    edn_text_init(&t, o->msg, sizeof o->msg);
    edn_text_str(&t, msg);
    return code;
}

static uint8_t no_hello(outcome_t *o) { return refuse(o, EDN_E_NO_HELLO, "no host session: send HELLO first"); }
static uint8_t latched_err(outcome_t *o) { return refuse(o, EDN_E_LATCHED, "e-stop latched: send CLEAR first"); }

/* RANGE "ch 9 not in 1..4". */
static uint8_t bad_channel(const edn_device_t *d, outcome_t *o, uint8_t ch)
{
    edn_text_t t;
    o->code = EDN_E_RANGE;
    edn_text_init(&t, o->msg, sizeof o->msg);
    edn_text_str(&t, "ch ");
    edn_text_u32(&t, ch);
    edn_text_str(&t, " not in 1..");
    edn_text_u32(&t, d->cfg.channels);
    return EDN_E_RANGE;
}

/* "channel 1 is ON, not STAGED" / "channel 1 is ON: STOP it first". */
static uint8_t state_err(outcome_t *o, uint8_t ch, uint8_t state, const char *tail)
{
    edn_text_t t;
    o->code = EDN_E_STATE;
    edn_text_init(&t, o->msg, sizeof o->msg);
    edn_text_str(&t, "channel ");
    edn_text_u32(&t, ch);
    edn_text_str(&t, " is ");
    edn_text_str(&t, edn_ch_state_names[state & 3u]);
    edn_text_str(&t, tail);
    return EDN_E_STATE;
}

/* RANGE "<key> <v> not in <lo>..<hi> <unit>" when v is outside lo..hi. */
static bool outside(outcome_t *o, const char *key, uint32_t v, uint32_t lo, uint32_t hi, const char *unit)
{
    if (v >= lo && v <= hi) return false;
    edn_text_t t;
    o->code = EDN_E_RANGE;
    edn_text_init(&t, o->msg, sizeof o->msg);
    edn_text_str(&t, key);
    edn_text_str(&t, " ");
    edn_text_u32(&t, v);
    edn_text_str(&t, " not in ");
    edn_text_u32(&t, lo);
    edn_text_str(&t, "..");
    edn_text_u32(&t, hi);
    edn_text_str(&t, " ");
    edn_text_str(&t, unit);
    return true;
}

/* §6.2 CHARGE: amp x pw > 1000 x qmax (amp x pw fits 32 bits; 1000 x qmax needs 64). */
static bool charge_err(const edn_device_t *d, outcome_t *o, uint32_t amp, uint32_t pw)
{
    uint32_t pc = amp * pw;
    if ((uint64_t)pc <= (uint64_t)d->cfg.limits.qmax * 1000u) return false;
    edn_text_t t;
    o->code = EDN_E_CHARGE;
    edn_text_init(&t, o->msg, sizeof o->msg);
    edn_text_str(&t, "amp x pw ");
    edn_text_u32(&t, pc / 1000u + (pc % 1000u != 0u ? 1u : 0u));
    edn_text_str(&t, " nC above qmax ");
    edn_text_u32(&t, d->cfg.limits.qmax);
    edn_text_str(&t, " nC");
    return true;
}

/* §6.2: the shortest time between two pulse onsets, compared with the pulse length without
 * dividing: length >= 1e9 / f  <=>  length * f >= 1e9. */
static bool pulse_overlaps(const edn_program_t *p)
{
    uint64_t length = p->wf == EDN_WF_SYM ? 2u * (uint64_t)p->pw : (uint64_t)p->pw * (1u + EDN_ASYM_RATIO);
    uint32_t f = p->f;
    if (p->mode == EDN_MODE_DD) f = p->f > p->f2 ? p->f : p->f2;
    if (p->mode == EDN_MODE_BURST && p->n > 1u) f = p->f2;
    return length * f >= 1000000000u;
}

/* §6.2 RANGE checks, in canonical key order, then the relations. */
static bool program_range(const edn_device_t *d, outcome_t *o, const edn_program_t *p)
{
    const edn_limits_t *L = &d->cfg.limits;
    if (outside(o, "f", p->f, L->fmin, L->fmax, "mHz")) return true;
    if (p->mode != EDN_MODE_CONT && outside(o, "f2", p->f2, L->fmin, L->fmax, "mHz")) return true;
    if (outside(o, "pw", p->pw, L->pwmin, L->pwmax, "us")) return true;
    if (outside(o, "amp", p->amp, L->amin, L->amax, "uA")) return true;
    if (outside(o, "dur", p->dur, 1u, L->tmax, "s")) return true;
    if (outside(o, "ramp", p->ramp, 1u, L->slew, "uA/s")) return true;
    edn_text_t t;
    if (p->mode == EDN_MODE_BURST && (uint32_t)p->n * p->f >= p->f2) {
        o->code = EDN_E_RANGE;
        edn_text_init(&t, o->msg, sizeof o->msg);
        edn_text_str(&t, "n ");
        edn_text_u32(&t, p->n);
        edn_text_str(&t, " x f must be below f2 ");
        edn_text_u32(&t, p->f2);
        edn_text_str(&t, " mHz");
        return true;
    }
    if (p->mode == EDN_MODE_DD && p->f >= p->f2) {
        o->code = EDN_E_RANGE;
        edn_text_init(&t, o->msg, sizeof o->msg);
        edn_text_str(&t, "f ");
        edn_text_u32(&t, p->f);
        edn_text_str(&t, " must be below f2 ");
        edn_text_u32(&t, p->f2);
        edn_text_str(&t, " mHz in mode DD");
        return true;
    }
    if (pulse_overlaps(p)) {
        o->code = EDN_E_RANGE;
        edn_text_init(&t, o->msg, sizeof o->msg);
        edn_text_str(&t, "pw ");
        edn_text_u32(&t, p->pw);
        edn_text_str(&t, " us: pulse longer than its period");
        return true;
    }
    return false;
}

/* §6.1 HELLO. */
static uint8_t do_hello(edn_device_t *d, const edn_request_t *r, outcome_t *o, uint32_t now)
{
    if (r->vmax < EDN_PROTO_MIN || r->vmin > EDN_PROTO_MAX) return refuse(o, EDN_E_VERSION, "speaks 1..1");
    uint8_t proto = r->vmax < EDN_PROTO_MAX ? r->vmax : (uint8_t)EDN_PROTO_MAX;
    all_off(d, now);
    d->session = 1;
    edn_identity_t id;
    id.model = d->cfg.model;
    id.fw = d->cfg.fw;
    id.sn = d->cfg.sn;
    edn_enc_ok_hello(&d->tx, r->seq, proto, &id, d->boot_id, d->cfg.channels, &d->cfg.limits);
    return EDN_E_NONE;
}

/* §6.2 SET: NO_HELLO, LATCHED, RANGE (ch), STATE, RANGE (values), CHARGE. */
static uint8_t do_set(edn_device_t *d, const edn_request_t *r, outcome_t *o)
{
    const edn_program_t *p = &r->program;
    if (!d->session) return no_hello(o);
    if (d->latched) return latched_err(o);
    if (p->ch > d->cfg.channels) return bad_channel(d, o, p->ch);
    edn_channel_t *c = &d->ch[p->ch - 1u];
    if (c->state == EDN_CH_ON) return state_err(o, p->ch, c->state, ": STOP it first");
    if (program_range(d, o, p)) return o->code;
    if (charge_err(d, o, p->amp, p->pw)) return o->code;
    c->prog = *p;
    c->state = EDN_CH_STAGED;
    uint16_t crc = edn_program_crc(&c->prog, &d->tx);
    edn_enc_ok_set(&d->tx, r->seq, p->ch, crc);
    return EDN_E_NONE;
}

/* §6.3 START: NO_HELLO, LATCHED, RANGE (ch), STATE (not STAGED). */
static uint8_t do_start(edn_device_t *d, const edn_request_t *r, outcome_t *o, uint32_t now)
{
    if (!d->session) return no_hello(o);
    if (d->latched) return latched_err(o);
    if (r->ch > d->cfg.channels) return bad_channel(d, o, r->ch);
    edn_channel_t *c = &d->ch[r->ch - 1u];
    if (c->state != EDN_CH_STAGED) return state_err(o, r->ch, c->state, ", not STAGED");
    if (!edn_hal_output_start(r->ch, &c->prog)) {
        edn_hal_output_disable(r->ch);
        return refuse(o, EDN_E_INTERNAL, "output stage did not respond");
    }
    c->state = EDN_CH_ON;
    c->start_rank = d->next_rank++;
    c->done_ms = now + c->prog.dur * 1000u;
    c->next_tel_ms = now + EDN_TEL_PERIOD_MS;
    c->target_ua = c->prog.amp;
    c->seg_base_ua = 0;
    c->seg_at_ms = now;
    c->applied_ua = 0;
    report_output(d, c, r->ch, true, 0, now);
    edn_enc_ok_ch(&d->tx, r->seq, EDN_V_START, r->ch);
    return EDN_E_NONE;
}

/* §6.4 AMP: NO_HELLO, LATCHED, RANGE (ch, amp), STATE (not ON), CHARGE. */
static uint8_t do_amp(edn_device_t *d, const edn_request_t *r, outcome_t *o, uint32_t now)
{
    const edn_limits_t *L = &d->cfg.limits;
    if (!d->session) return no_hello(o);
    if (d->latched) return latched_err(o);
    if (r->ch > d->cfg.channels) return bad_channel(d, o, r->ch);
    if (outside(o, "amp", r->amp, L->amin, L->amax, "uA")) return o->code;
    edn_channel_t *c = &d->ch[r->ch - 1u];
    if (c->state != EDN_CH_ON) return state_err(o, r->ch, c->state, ", not ON");
    if (charge_err(d, o, r->amp, c->prog.pw)) return o->code;
    uint32_t sp = edn_setpoint(d, r->ch, now);
    c->target_ua = r->amp;
    c->seg_at_ms = now;
    if (r->amp > sp) {
        c->seg_base_ua = sp; /* an increase slews at the programmed ramp */
    } else {
        c->seg_base_ua = r->amp; /* a decrease takes effect at once */
        if (c->applied_ua != r->amp) {
            c->applied_ua = r->amp;
            edn_hal_output_amplitude(r->ch, r->amp);
        }
        if (r->amp != c->reported_ua) report_output(d, c, r->ch, true, r->amp, now);
    }
    edn_enc_ok_amp(&d->tx, r->seq, r->ch, r->amp);
    return EDN_E_NONE;
}

/* §6.5 STOP [ch]: RANGE only. */
static uint8_t do_stop(edn_device_t *d, const edn_request_t *r, outcome_t *o, uint32_t now)
{
    if (r->ch == 0u) {
        all_off(d, now);
    } else {
        if (r->ch > d->cfg.channels) return bad_channel(d, o, r->ch);
        switch_off(d, r->ch, EDN_CH_OFF, now);
    }
    edn_enc_ok_ch(&d->tx, r->seq, EDN_V_STOP, r->ch);
    return EDN_E_NONE;
}

/* §6.10 IMP: NO_HELLO, LATCHED, RANGE, STATE (ON). OPEN when the 100 uA test pulse would need more
 * than the compliance voltage. */
static uint8_t do_imp(edn_device_t *d, const edn_request_t *r, outcome_t *o)
{
    if (!d->session) return no_hello(o);
    if (d->latched) return latched_err(o);
    if (r->ch > d->cfg.channels) return bad_channel(d, o, r->ch);
    edn_channel_t *c = &d->ch[r->ch - 1u];
    if (c->state == EDN_CH_ON) return state_err(o, r->ch, c->state, ": STOP it first");
    uint32_t z = 0;
    if (!edn_hal_impedance(r->ch, &z)) return refuse(o, EDN_E_INTERNAL, "impedance measurement failed");
    if (z != EDN_Z_OPEN && (uint64_t)EDN_IMP_TEST_UA * z > (uint64_t)d->cfg.limits.vc * 1000000u) z = EDN_Z_OPEN;
    edn_enc_ok_imp(&d->tx, r->seq, r->ch, z);
    return EDN_E_NONE;
}

static uint8_t execute(edn_device_t *d, const edn_request_t *r, outcome_t *o, uint32_t now)
{
    o->code = EDN_E_NONE;
    o->msg[0] = '\0';
    switch (r->verb) {
    case EDN_V_HELLO: return do_hello(d, r, o, now);
    case EDN_V_SET: return do_set(d, r, o);
    case EDN_V_START: return do_start(d, r, o, now);
    case EDN_V_AMP: return do_amp(d, r, o, now);
    case EDN_V_STOP: return do_stop(d, r, o, now);
    case EDN_V_ESTOP:
        /* §6.6: no checks; outputs off on receipt, latch set; executed again even as a retry. */
        event(EDN_EV_ESTOP, 0, 0, 0, 0, 0, NULL, 0);
        d->latched = 1;
        all_off(d, now);
        edn_enc_ok_latched(&d->tx, r->seq, EDN_V_ESTOP, true);
        return EDN_E_NONE;
    case EDN_V_CLEAR:
        d->latched = 0;
        event(EDN_EV_CLEAR, 0, 0, 0, 0, 0, NULL, 0);
        edn_enc_ok_latched(&d->tx, r->seq, EDN_V_CLEAR, false);
        return EDN_E_NONE;
    case EDN_V_HB:
        if (!d->session) return no_hello(o);
        edn_enc_ok_hb(&d->tx, r->seq);
        return EDN_E_NONE;
    case EDN_V_STATUS: {
        uint8_t states[EDN_MAX_CHANNELS];
        for (uint8_t i = 0; i < d->cfg.channels; i++) states[i] = d->ch[i].state;
        /* §6.9 up: ms since the last power-up or reset, wrapping at 2^32. */
        edn_enc_ok_status(&d->tx, r->seq, d->boot_id, d->latched != 0u, now - d->boot_ms, d->cfg.channels, states);
        return EDN_E_NONE;
    }
    default: return do_imp(d, r, o);
    }
}

static void count(edn_device_t *d, uint8_t code, const uint8_t *line, size_t len)
{
    if (code == EDN_E_NONE) {
        d->counters.frames_ok++;
        return;
    }
    d->counters.rejected[code]++;
    event(EDN_EV_REJECTED, 0, 0, code, 0, 0, line, len);
}

static bool unstored(uint8_t verb) { return verb == EDN_V_HB || verb == EDN_V_STATUS; }

/* One received line (§4.4 decoding, §11 re-arming, §12.3 duplicates, §6 execution). */
static void handle_line(edn_device_t *d, const uint8_t *line, size_t len)
{
    uint32_t now = edn_hal_millis();
    size_t content = (len > 0u && line[len - 1u] == (uint8_t)'\r') ? len - 1u : len;
    edn_request_t r;
    edn_decode_t res;
    edn_error_t e = edn_decode_request(line, len, &r, &res);
    if (e != EDN_E_NONE) {
        d->counters.rejected[e]++;
        event(EDN_EV_REJECTED, 0, 0, (uint8_t)e, 0, 0, line, len);
        if (!res.has_seq) {
            unsolicited_err(d, (uint8_t)e, now); /* §4.4: seq not trusted */
        } else {
            edn_enc_err(&d->tx, true, res.seq, (uint8_t)e, res.msg);
            send(d);
        }
        return;
    }
    d->last_valid_ms = now; /* §11: every valid frame re-arms the watchdog */
    /* §12.3: a byte-identical retry gets the stored reply (ESTOP is executed again anyway). */
    if (r.verb != EDN_V_ESTOP && !unstored(r.verb) && d->stored_req_len != 0u && d->stored_req_len == content &&
        mem_equal(d->stored_req, line, content)) {
        d->counters.repeats++;
        count(d, d->stored_code, line, content);
        edn_hal_uart_write(d->stored_reply, d->stored_reply_len);
        return;
    }
    outcome_t o;
    uint8_t code = execute(d, &r, &o, now);
    if (code != EDN_E_NONE) edn_enc_err(&d->tx, true, r.seq, code, o.msg);
    size_t n = edn_line_end(&d->tx);
    if (!unstored(r.verb)) {
        /* Every other executed frame, accepted or refused, becomes the stored pair (§12.3). */
        forget_stored(d);
        if (n != 0u) {
            mem_copy(d->stored_req, line, content);
            mem_copy(d->stored_reply, d->tx.b, n);
            d->stored_req_len = (uint16_t)content;
            d->stored_reply_len = (uint16_t)n;
            d->stored_code = code;
        }
    }
    count(d, code, line, content);
    if (n == 0u) {
        d->counters.dropped_lines++;
        return;
    }
    edn_hal_uart_write(d->tx.b, n);
}

void edn_rx(edn_device_t *d, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *line = NULL;
        size_t len = 0;
        edn_rx_result_t r = edn_rx_byte(&d->rx, bytes[i], &line, &len);
        if (r == EDN_RX_LINE) {
            handle_line(d, line, len);
        } else if (r == EDN_RX_TOO_LONG) {
            /* §2.2: reported once per over-long line, never decoded. */
            d->counters.rejected[EDN_E_TOO_LONG]++;
            event(EDN_EV_REJECTED, 0, 0, EDN_E_TOO_LONG, 0, 0, line, len);
            unsolicited_err(d, EDN_E_TOO_LONG, edn_hal_millis());
        }
    }
}
