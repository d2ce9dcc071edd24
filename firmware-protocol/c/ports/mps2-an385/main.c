/*
 * The mps2-an385 port (Cortex-M3, as QEMU's `-M mps2-an385` models it): the HAL on this board.
 *
 * - UART0 (interrupt driven, RX enabled) is the protocol's serial link, 115200 8N1.
 * - The millisecond clock (edn_hal_millis) is CMSDK timer 0, a free-running 25 MHz counter read on
 *   demand; SysTick interrupts at 1 kHz only to wake the main loop. Counting SysTick interrupts
 *   instead would lose milliseconds whenever an interrupt is served late (an emulator descheduled
 *   by a busy host does this; so does a long critical section on hardware), and the watchdog and
 *   the program durations must run on true time.
 * - The output stage is a register-level stub: it records what it was told and simulates the load
 *   (ports/sim-stage), so telemetry has currents and impedances to report.
 * - UART1 is the board's test port: it prints the device's events as the simulator's JSON lines
 *   (rejected lines cut to 32 bytes) and takes the board control commands of ports/host/board.h
 *   (reboot is a real reset through SCB AIRCR).
 * - A 16-byte board configuration at the start of RAM, which a launcher may fill before the CPU
 *   starts (QEMU's generic loader): a magic word, a narrower qmax (0: none), the load seed and 32
 *   bits of entropy for the boot id (this board has no TRNG; PORTING.md says what a real one needs).
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/edn_device.h"
#include "hal.h"
#include "mps2.h"
#include "ports/sim-stage/event_json.h"
#include "ports/sim-stage/sim_stage.h"
#include "uart.h"

#define CONFIG_MAGIC 0x45444E31u /* "EDN1" */
#define REJECTED_LINE_MAX 32u

typedef struct {
    uint32_t magic, qmax, seed, entropy;
} board_config_t;

/* Not zeroed at reset (linker script): written by the launcher, and the reset counter survives
 * a warm reset so that every boot gets a different boot id. */
__attribute__((section(".board_config"))) volatile board_config_t board_config;
__attribute__((section(".noinit"))) static volatile uint32_t resets;

static uint32_t ms;          /* the clock, advanced by edn_hal_millis from the timer */
static uint32_t timer_last;  /* the timer value at the last reading */
static uint32_t timer_ticks; /* timer ticks not yet counted as a whole millisecond */
static uint8_t rx0[128], tx0[256], rx1[32], tx1[128];
static uart_t uart0 = {CMSDK_UART0, rx0, tx0, sizeof rx0, sizeof tx0, 0, 0, 0, 0, 0};
static uart_t uart1 = {CMSDK_UART1, rx1, tx1, sizeof rx1, sizeof tx1, 0, 0, 0, 0, 0};
static sim_stage_t stage;
static edn_device_t device;
static edn_config_t config;

void SysTick_Handler(void) {}
void UART0_RX_Handler(void) { uart_rx_isr(&uart0); }
void UART0_TX_Handler(void) { uart_tx_isr(&uart0); }
void UART1_RX_Handler(void) { uart_rx_isr(&uart1); }
void UART1_TX_Handler(void) { uart_tx_isr(&uart1); }

/* ---- the HAL -------------------------------------------------------------------------------- */

/* Whole milliseconds of the 25 MHz down counter (wrapping every 171 s; read far more often). */
uint32_t edn_hal_millis(void)
{
    uint32_t now = CMSDK_TIMER0->VALUE;
    timer_ticks += timer_last - now; /* a down counter: elapsed = last - now (mod 2^32) */
    timer_last = now;
    while (timer_ticks >= MPS2_SYSCLK_HZ / 1000u) {
        timer_ticks -= MPS2_SYSCLK_HZ / 1000u;
        ms++;
    }
    return ms;
}
void edn_hal_uart_write(const uint8_t *data, size_t len) { uart_write(&uart0, data, len); }
bool edn_hal_output_start(uint8_t ch, const edn_program_t *p) { return sim_stage_start(&stage, ch, p, edn_hal_millis()); }
void edn_hal_output_amplitude(uint8_t ch, uint32_t ua) { sim_stage_amplitude(&stage, ch, ua, edn_hal_millis()); }
void edn_hal_output_disable(uint8_t ch) { sim_stage_disable(&stage, ch, edn_hal_millis()); }
/* Also called from interrupts (edn_fault_isr, Default_Handler): no clock reading, only the stage. */
void edn_hal_output_all_off(void) { sim_stage_all_off(&stage, ms); }
void edn_hal_measure(uint8_t ch, edn_measure_t *m) { sim_stage_measure(&stage, ch, edn_hal_millis(), m); }
bool edn_hal_impedance(uint8_t ch, uint32_t *z) { return sim_stage_impedance(&stage, ch, z); }

/* A 32-bit mix (the MurmurHash3 finaliser) of the launcher's entropy, the reset count and the
 * SysTick phase. */
uint32_t edn_hal_random32(void)
{
    uint32_t h = board_config.entropy ^ (resets * 0x9E3779B9u) ^ CMSDK_TIMER0->VALUE;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

static void print(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') n++;
    uart_write(&uart1, (const uint8_t *)s, n);
}

void edn_hal_event(const edn_event_t *e)
{
    static char json[REJECTED_LINE_MAX * 6u + 64u];
    edn_event_t cut = *e;
    if (cut.len > REJECTED_LINE_MAX) cut.len = REJECTED_LINE_MAX;
    (void)event_json(&cut, json, sizeof json);
    print(json);
    print("\n");
}

/* ---- control commands on UART1 (ports/host/board.h has the same list) ------------------------- */

static bool parse_uint(const char *s, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;
    if (*s == '\0') return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (max - (uint32_t)(*s - '0')) / 10u) return false;
        v = v * 10u + (uint32_t)(*s - '0');
    }
    *out = v;
    return true;
}

static bool starts(const char *s, const char *prefix, const char **rest)
{
    while (*prefix != '\0') {
        if (*s++ != *prefix++) return false;
    }
    *rest = s;
    return true;
}

static void control(char *line)
{
    const char *arg = NULL;
    uint32_t v = 0;
    if (starts(line, "reboot", &arg) && *arg == '\0') {
        /* The stage reports what the reset does to it (every output off), as the host port and
         * the simulator do; then the rings are drained, since a reset loses what they hold. */
        for (uint8_t i = 1; i <= config.channels; i++) {
            if (stage.ch[i - 1u].on) {
                edn_event_t off = {EDN_EV_OUTPUT, i, 0, 0, 0, 0, NULL, 0};
                edn_hal_event(&off);
            }
        }
        edn_hal_output_all_off();
        uart_flush(&uart0);
        uart_flush(&uart1);
        SCB_AIRCR = SCB_AIRCR_RESET; /* a real reset: the core starts again from Reset_Handler */
        for (;;) {
        }
    } else if (starts(line, "overcurrent", &arg) && *arg == '\0') {
        edn_fault_isr(&device, EDN_FAULT_OVERCURRENT);
    } else if (starts(line, "internal", &arg) && *arg == '\0') {
        edn_fault_isr(&device, EDN_FAULT_INTERNAL);
    } else if (starts(line, "stage-fail ", &arg) && parse_uint(arg, 1000000u, &v) && v > 0u) {
        stage.fail_next = v;
    } else if (starts(line, "load ", &arg) && arg[0] >= '1' && arg[0] <= '0' + (char)config.channels && arg[1] == ' ') {
        uint32_t ch = (uint32_t)(arg[0] - '0');
        const char *z = arg + 2;
        if (starts(z, "OPEN", &arg) && *arg == '\0') v = EDN_Z_OPEN;
        else if (!parse_uint(z, SIM_STAGE_MAX_LOAD, &v)) v = 0xFFFFFFFEu;
        if (v == 0xFFFFFFFEu) print("{\"event\":\"error\",\"message\":\"load: not 0..9999999 ohm or OPEN\"}\n");
        else sim_stage_set_load(&stage, (uint8_t)ch, v, edn_hal_millis());
    } else {
        print("{\"event\":\"error\",\"message\":\"unknown control command\"}\n");
    }
}

int main(void)
{
    resets++;
    CMSDK_TIMER0->RELOAD = 0xFFFFFFFFu;
    CMSDK_TIMER0->VALUE = 0xFFFFFFFFu;
    CMSDK_TIMER0->CTRL = 1u;
    timer_last = CMSDK_TIMER0->VALUE;
    SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
    uart_init(&uart0, 115200u, IRQ_UART0_RX, IRQ_UART0_TX);
    uart_init(&uart1, 115200u, IRQ_UART1_RX, IRQ_UART1_TX);

    bool configured = board_config.magic == CONFIG_MAGIC;
    config.model = "EDN-FW-M3";
    config.fw = "1.0.0";
    config.sn = "MPS2-0001";
    config.channels = EDN_MAX_CHANNELS;
    config.limits = edn_compiled_limits;
    if (configured && board_config.qmax != 0u) config.limits.qmax = board_config.qmax;
    sim_stage_init(&stage, config.channels, SIM_STAGE_DEFAULT_LOAD, configured ? board_config.seed : 1u, config.limits.vc);
    if (!edn_init(&device, &config)) {
        /* A board configuration wider than the compiled limits: refuse to run, outputs off. */
        config.limits = edn_compiled_limits;
        print("{\"event\":\"error\",\"message\":\"board configuration refused; compiled limits used\"}\n");
        (void)edn_init(&device, &config);
    }

    static uint8_t bytes[32];
    static char line[40];
    uint32_t line_len = 0;
    for (;;) {
        edn_poll(&device);
        /* A lost RX interrupt must not stall the link: look at the receivers every pass too. */
        irq_disable();
        uart_rx_isr(&uart0);
        uart_rx_isr(&uart1);
        irq_enable();
        size_t n = uart_read(&uart0, bytes, sizeof bytes);
        if (n > 0u) edn_rx(&device, bytes, n);
        size_t c = uart_read(&uart1, bytes, sizeof bytes);
        for (size_t i = 0; i < c; i++) {
            if (bytes[i] == (uint8_t)'\n') {
                line[line_len] = '\0';
                if (line_len > 0u) control(line);
                line_len = 0;
            } else if (line_len + 1u < sizeof line) {
                line[line_len++] = (char)bytes[i];
            }
        }
        if (n == 0u && c == 0u) {
            /* Sleep until SysTick or a UART interrupt; checked with interrupts masked so that a
             * byte arriving now still wakes the core (WFI wakes on a pending interrupt). */
            irq_disable();
            if (!uart_rx_pending(&uart0) && !uart_rx_pending(&uart1)) wait_for_interrupt();
            irq_enable();
        }
    }
}
