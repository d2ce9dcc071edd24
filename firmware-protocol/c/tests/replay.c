/*
 * The firmware on virtual time, for the differential test and the scenario vectors
 * (the tests under test/firmware): the host port's board and the real core, driven by a script on stdin.
 *
 *     edn-fw-replay [--channels N] [--seed N] [--qmax NC] [--load OHMS] [--start-ms T]
 *
 * Script lines:
 *     t MS          advance the clock to MS (polling the device at every millisecond on the way)
 *     rx HEX        the device receives these bytes (hex, two digits a byte)
 *     power SEED [QMAX]  a new device from cold: the clock back at --start-ms, the board seeded
 *                   with SEED (its loads), qmax narrowed to QMAX nC if given, a fresh core (so
 *                   many scenarios share one process)
 *     <control>     a board control command (board.h): reboot, load CH OHMS|OPEN, overcurrent, ...
 * Output, one JSON object a line: {"t":MS,"tx":"<the bytes written, latin1>"} for each UART write,
 * {"t":MS,"ev":{...}} for each device event, {"t":MS,"error":"..."} for a refused script line.
 * Boot ids come from a PRNG seeded with --seed (a test compares everything else).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ports/host/board.h"
#include "ports/sim-stage/event_json.h"

static uint64_t clock_ms; /* the harness's clock; the device sees it modulo 2^32, as hardware's wraps */
static uint32_t boot_rng;
static edn_device_t device;

static uint32_t now_ms(void) { return (uint32_t)clock_ms; }
static uint32_t random32(void) { return sim_mulberry32(&boot_rng); }

static void put_json_string(const uint8_t *s, size_t n)
{
    (void)putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') (void)printf("\\%c", (char)c);
        else if (c == '\n') (void)printf("\\n");
        else if (c < 0x20u || c > 0x7Eu) (void)printf("\\u%04x", c);
        else (void)putchar((int)c);
    }
    (void)putchar('"');
}

static void uart_write(const uint8_t *data, size_t len)
{
    (void)printf("{\"t\":%llu,\"tx\":", (unsigned long long)clock_ms);
    put_json_string(data, len);
    (void)printf("}\n");
}

static void emit(const char *json) { (void)printf("{\"t\":%llu,\"ev\":%s}\n", (unsigned long long)clock_ms, json); }

static void script_error(const char *message)
{
    (void)printf("{\"t\":%llu,\"error\":", (unsigned long long)clock_ms);
    put_json_string((const uint8_t *)message, strlen(message));
    (void)printf("}\n");
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int main(int argc, char **argv)
{
    char err[200];
    board_options_t o;
    int i = board_parse_options(argc, argv, &o, err, sizeof err);
    if (i < 0) {
        (void)fprintf(stderr, "edn-fw-replay: %s\n", err);
        return 2;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--start-ms") == 0 && i + 1 < argc) {
            clock_ms = strtoull(argv[++i], NULL, 10);
        } else {
            (void)fprintf(stderr, "edn-fw-replay: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    uint64_t start_ms = clock_ms;
    boot_rng = sim_stream_seed(o.seed, 0xB007u);
    static const board_io_t io = {now_ms, uart_write, emit, random32};
    if (board_start(&io, &o, "EDN-FW-HOST", "FW-", &device, err, sizeof err) != 0) {
        (void)fprintf(stderr, "edn-fw-replay: %s\n", err);
        return 2;
    }
    static char line[4096];
    static uint8_t bytes[2048];
    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t n = strlen(line);
        while (n > 0u && (line[n - 1u] == '\n' || line[n - 1u] == '\r')) line[--n] = '\0';
        if (n == 0u) continue;
        if (line[0] == 't' && line[1] == ' ') {
            unsigned long long target = strtoull(line + 2, NULL, 10);
            while (clock_ms < target) {
                clock_ms++;
                edn_poll(&device);
            }
        } else if (strncmp(line, "power ", 6) == 0) {
            char *end = NULL;
            o.seed = (uint32_t)strtoul(line + 6, &end, 10);
            o.qmax = (uint32_t)strtoul(end, NULL, 10);
            clock_ms = start_ms;
            boot_rng = sim_stream_seed(o.seed, 0xB007u);
            memset(&device, 0, sizeof device);
            (void)printf("{\"t\":%llu,\"power\":%lu}\n", (unsigned long long)clock_ms, (unsigned long)o.seed);
            if (board_start(&io, &o, "EDN-FW-HOST", "FW-", &device, err, sizeof err) != 0) script_error(err);
        } else if (strncmp(line, "rx ", 3) == 0) {
            size_t k = 0;
            for (size_t j = 3; j + 1u < n + 1u && line[j] != '\0' && line[j + 1u] != '\0'; j += 2u) {
                int hi = hexval(line[j]), lo = hexval(line[j + 1u]);
                if (hi < 0 || lo < 0 || k >= sizeof bytes) break;
                bytes[k++] = (uint8_t)(hi * 16 + lo);
            }
            edn_rx(&device, bytes, k);
        } else if (board_control(&device, line, err, sizeof err) != 0) {
            script_error(err);
        }
    }
    return 0;
}
