/*
 * The host port's board: the HAL (hal.h) over the simulated output stage (ports/sim-stage), with
 * its clock, UART and event output supplied by the program around it (main.c in real time on a
 * file descriptor; tests/replay.c on virtual time).
 */
#ifndef EDN_HOST_BOARD_H
#define EDN_HOST_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "core/edn_device.h"
#include "ports/sim-stage/sim_stage.h"

typedef struct {
    uint32_t (*now_ms)(void);
    void (*uart_write)(const uint8_t *data, size_t len);
    /* One JSON object (without newline): the simulator's --json event line. */
    void (*emit)(const char *json);
    uint32_t (*random32)(void);
} board_io_t;

typedef struct {
    unsigned channels;
    uint32_t seed;
    uint32_t load_ohm;
    uint32_t qmax; /* 0: the compiled limit */
} board_options_t;

/* Parse the options shared by the host port and the replay harness (--channels, --seed, --qmax,
 * --load); returns the index of the first unparsed argument, or -1 with `err` set. */
int board_parse_options(int argc, char **argv, board_options_t *o, char *err, size_t errcap);

/* Set up the board and the device config (identity, channels, limits) and power the device on. */
int board_start(const board_io_t *bio, const board_options_t *o, const char *model, const char *sn_prefix,
                edn_device_t *d, char *err, size_t errcap);

/* A control command (the TypeScript simulator's fault specs that act on the device):
 *   reboot | load CH OHMS | load CH OPEN | overcurrent | internal | stage-fail N
 * Returns 0, or -1 with `err` set. */
int board_control(edn_device_t *d, const char *line, char *err, size_t errcap);

/* The stage, for harnesses that look inside. */
sim_stage_t *board_stage(void);

#endif
