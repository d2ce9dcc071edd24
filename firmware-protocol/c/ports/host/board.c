/* The host port's board (see board.h): the HAL over the simulated stage. */
#include "board.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal.h"
#include "ports/sim-stage/event_json.h"

static const board_io_t *io;
static sim_stage_t stage;
static edn_config_t config;
static char serial[EDN_MAX_TOKEN + 1];

/* ---- the HAL ------------------------------------------------------------------------------ */

uint32_t edn_hal_millis(void) { return io->now_ms(); }
void edn_hal_uart_write(const uint8_t *data, size_t len) { io->uart_write(data, len); }
bool edn_hal_output_start(uint8_t ch, const edn_program_t *p) { return sim_stage_start(&stage, ch, p, io->now_ms()); }
void edn_hal_output_amplitude(uint8_t ch, uint32_t ua) { sim_stage_amplitude(&stage, ch, ua, io->now_ms()); }
void edn_hal_output_disable(uint8_t ch) { sim_stage_disable(&stage, ch, io->now_ms()); }
void edn_hal_output_all_off(void) { sim_stage_all_off(&stage, io->now_ms()); }
void edn_hal_measure(uint8_t ch, edn_measure_t *m) { sim_stage_measure(&stage, ch, io->now_ms(), m); }
bool edn_hal_impedance(uint8_t ch, uint32_t *z) { return sim_stage_impedance(&stage, ch, z); }
uint32_t edn_hal_random32(void) { return io->random32(); }

void edn_hal_event(const edn_event_t *e)
{
    static char json[EVENT_JSON_MAX];
    (void)event_json(e, json, sizeof json);
    io->emit(json);
}

sim_stage_t *board_stage(void) { return &stage; }

/* ---- options and control ------------------------------------------------------------------ */

static int parse_u32(const char *s, unsigned long min, unsigned long max, uint32_t *out)
{
    char *end = NULL;
    if (s == NULL || *s < '0' || *s > '9') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || v < min || v > max) return -1;
    *out = (uint32_t)v;
    return 0;
}

int board_parse_options(int argc, char **argv, board_options_t *o, char *err, size_t errcap)
{
    o->channels = 4;
    o->seed = 1;
    o->load_ohm = SIM_STAGE_DEFAULT_LOAD;
    o->qmax = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t x = 0;
        if (strcmp(a, "--channels") == 0) {
            if (parse_u32(v, 1, EDN_MAX_CHANNELS, &x) != 0) return snprintf(err, errcap, "--channels must be 1..%u", EDN_MAX_CHANNELS), -1;
            o->channels = x;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u32(v, 0, 0xFFFFFFFFul, &x) != 0) return snprintf(err, errcap, "--seed must be 0..4294967295"), -1;
            o->seed = x;
        } else if (strcmp(a, "--qmax") == 0) {
            if (parse_u32(v, 1, EDN_LIMIT_QMAX, &x) != 0) return snprintf(err, errcap, "--qmax must be 1..%u nC (the compiled qmax; a board may only narrow it)", EDN_LIMIT_QMAX), -1;
            o->qmax = x;
        } else if (strcmp(a, "--load") == 0) {
            if (parse_u32(v, 0, SIM_STAGE_MAX_LOAD, &x) != 0) return snprintf(err, errcap, "--load must be 0..%u ohm", SIM_STAGE_MAX_LOAD), -1;
            o->load_ohm = x;
        } else {
            break;
        }
        i++;
    }
    return i;
}

int board_start(const board_io_t *bio, const board_options_t *o, const char *model, const char *sn_prefix,
                edn_device_t *d, char *err, size_t errcap)
{
    io = bio;
    (void)snprintf(serial, sizeof serial, "%s%08lX", sn_prefix, (unsigned long)o->seed);
    config.model = model;
    config.fw = "1.0.0";
    config.sn = serial;
    config.channels = (uint8_t)o->channels;
    config.limits = edn_compiled_limits;
    if (o->qmax != 0u) config.limits.qmax = o->qmax;
    sim_stage_init(&stage, (uint8_t)o->channels, o->load_ohm, o->seed, config.limits.vc);
    if (!edn_init(d, &config)) {
        (void)snprintf(err, errcap, "the device refused its configuration");
        return -1;
    }
    return 0;
}

int board_control(edn_device_t *d, const char *line, char *err, size_t errcap)
{
    char word[16] = {0}, a1[16] = {0}, a2[16] = {0}, extra[2] = {0};
    int n = sscanf(line, "%15s %15s %15s %1s", word, a1, a2, extra);
    uint32_t ch = 0, v = 0;
    if (n == 1 && strcmp(word, "reboot") == 0) {
        return edn_init(d, &config) ? 0 : (snprintf(err, errcap, "reboot failed"), -1);
    }
    if (n == 1 && strcmp(word, "overcurrent") == 0) {
        edn_fault_isr(d, EDN_FAULT_OVERCURRENT);
        edn_poll(d);
        return 0;
    }
    if (n == 1 && strcmp(word, "internal") == 0) {
        edn_fault_isr(d, EDN_FAULT_INTERNAL);
        edn_poll(d);
        return 0;
    }
    if (n == 2 && strcmp(word, "stage-fail") == 0 && parse_u32(a1, 1, 1000000, &v) == 0) {
        stage.fail_next = v;
        return 0;
    }
    if (n == 3 && strcmp(word, "load") == 0 && parse_u32(a1, 1, config.channels, &ch) == 0) {
        if (strcmp(a2, "OPEN") == 0 || strcmp(a2, "open") == 0) v = EDN_Z_OPEN;
        else if (parse_u32(a2, 0, SIM_STAGE_MAX_LOAD, &v) != 0) return snprintf(err, errcap, "load: '%s' is not 0..%u ohm or OPEN", a2, SIM_STAGE_MAX_LOAD), -1;
        sim_stage_set_load(&stage, (uint8_t)ch, v, io->now_ms());
        return 0;
    }
    (void)snprintf(err, errcap, "unknown control command '%.60s' (reboot | load CH OHMS|OPEN | overcurrent | internal | stage-fail N)", line);
    return -1;
}
