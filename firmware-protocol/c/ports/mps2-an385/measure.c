/*
 * The cycle budget (the "worst-case time to handle one 256-byte line"), measured on the
 * Cortex-M3 in QEMU with `-icount shift=0`: every guest instruction advances the virtual clock by
 * exactly 1 ns, and CMSDK timer 0 counts that clock at 25 MHz, so instructions = timer ticks x 40.
 * Each candidate line is handled REPS times (every repetition with its own seq, so none is a
 * duplicate answered from the retry store) and the mean is reported: the count is exact to well
 * under one instruction. The device is in its busiest state (a session, four channels ON), the UART
 * is a RAM sink, and the clock does not move, so only the line's own work is counted: the bytes
 * through the receiver, decoding, execution, the reply's encoding and its CRC.
 *
 * Also measured: ESTOP from its LF to the output stage's all-off; one edn_poll in which all four
 * channels send TEL and the control tick runs; the stack's high-water mark.
 *
 * Prints one line per measurement on UART0, then a summary, then ends QEMU (semihosting exit).
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/edn_crc.h"
#include "core/edn_device.h"
#include "hal.h"
#include "mps2.h"
#include "ports/sim-stage/sim_stage.h"
#include "uart.h"

#define REPS 64u
#define TICK_NS 40u /* 25 MHz */
/* One 256-byte line plus LF at 115200 baud 8N1: 257 x 10 bits. */
#define LINE_TIME_US 22309u

extern uint32_t _estack;

static uint32_t clock_ms = 5;
static sim_stage_t stage;
static edn_device_t device;
static uint8_t sink[300];
static uint32_t all_off_at;
static bool armed;
static uint8_t rx0[16], tx0[256];
static uart_t uart0 = {CMSDK_UART0, rx0, tx0, sizeof rx0, sizeof tx0, 0, 0, 0, 0, 0};

void SysTick_Handler(void) {}
void UART0_RX_Handler(void) { uart_rx_isr(&uart0); }
void UART0_TX_Handler(void) { uart_tx_isr(&uart0); }
void UART1_RX_Handler(void) {}
void UART1_TX_Handler(void) {}

uint32_t edn_hal_millis(void) { return clock_ms; }
void edn_hal_uart_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len && i < sizeof sink; i++) sink[i] = data[i];
}
bool edn_hal_output_start(uint8_t ch, const edn_program_t *p) { return sim_stage_start(&stage, ch, p, clock_ms); }
void edn_hal_output_amplitude(uint8_t ch, uint32_t ua) { sim_stage_amplitude(&stage, ch, ua, clock_ms); }
void edn_hal_output_disable(uint8_t ch) { sim_stage_disable(&stage, ch, clock_ms); }
void edn_hal_output_all_off(void)
{
    if (armed) {
        all_off_at = CMSDK_TIMER0->VALUE;
        armed = false;
    }
    sim_stage_all_off(&stage, clock_ms);
}
void edn_hal_measure(uint8_t ch, edn_measure_t *m) { sim_stage_measure(&stage, ch, clock_ms, m); }
bool edn_hal_impedance(uint8_t ch, uint32_t *z) { return sim_stage_impedance(&stage, ch, z); }
uint32_t edn_hal_random32(void) { return 0x5E1F09A2u; }
void edn_hal_event(const edn_event_t *e) { (void)e; }

/* ---- output ----------------------------------------------------------------------------------- */

static void print(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') n++;
    uart_write(&uart0, (const uint8_t *)s, n);
}

static void print_u32(uint32_t v)
{
    char d[11];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + (char)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    char out[11];
    for (unsigned i = 0; i < n; i++) out[i] = d[n - 1u - i];
    out[n] = '\0';
    print(out);
}

static void semihosting_exit(void)
{
    __asm__ volatile("mov r0, #0x18\n\tldr r1, =0x20026\n\tbkpt #0xab" ::: "r0", "r1", "memory");
}

/* ---- lines ------------------------------------------------------------------------------------ */

static uint8_t line[300];
static size_t line_len;

static void add(const char *s)
{
    while (*s != '\0' && line_len < sizeof line) line[line_len++] = (uint8_t)*s++;
}

static void add_u32(uint32_t v)
{
    char d[11];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + (char)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0u) line[line_len++] = (uint8_t)d[--n];
}

/* Append " *CRC" (deliberately wrong when bad_crc) and LF. `total` documents the intended length. */
static void finish(size_t total, bool bad_crc)
{
    static const char hex[] = "0123456789ABCDEF";
    uint16_t crc = (uint16_t)(edn_crc16(line, line_len) ^ (bad_crc ? 1u : 0u));
    line[line_len++] = ' ';
    line[line_len++] = '*';
    for (unsigned i = 4; i > 0u; i--) line[line_len++] = (uint8_t)hex[(crc >> ((i - 1u) * 4u)) & 0xFu];
    (void)total;
    line[line_len++] = '\n';
}

/* Candidates, each for one seq. */
typedef void (*build_t)(uint32_t seq);

/* A 256-byte valid OK HELLO reply sent to the device: fully decoded (16 fields), then refused as
 * the wrong direction. */
static void misdirected_hello(uint32_t seq)
{
    line_len = 0;
    add_u32(seq % 10000u + 10000u);
    add(" OK HELLO proto=1 model=MODEL-ABCDEFGHIJKLMNOPQRSTUVWX fw=1.0.0-ABCDEFGHIJKLMNOPQRS sn=SERIAL-ABCDEFGHIJKLMNOPQRST"
        " boot=5E1F09A2 ch=4 fmin=1000 fmax=150000 pwmin=50 pwmax=600 amin=0 amax=20000 qmax=12000 tmax=3600 vc=80 wdog=1000");
    finish(256, false);
}

/* 256 bytes of request with distinct unknown keys: every key compared with every earlier one. */
static void unknown_keys(uint32_t seq)
{
    line_len = 0;
    add_u32(seq % 10000u + 10000u);
    add(" HB");
    for (char a = 'a'; line_len + 5u + 7u <= 256u; a++) {
        char kv[5] = {' ', 'k', a > 'z' ? (char)('0' + (a - 'z')) : a, '=', '1'};
        for (unsigned i = 0; i < 5u; i++) line[line_len++] = (uint8_t)kv[i];
    }
    finish(256, false);
}

/* 256 bytes whose CRC is wrong: the whole body CRC'd, then `! ERR code=BAD_CRC`. */
static void bad_crc(uint32_t seq)
{
    line_len = 0;
    add_u32(seq % 10000u + 10000u);
    add(" SET");
    while (line_len < 250u) add(" ch=1");
    line_len = 250u;
    finish(256, true);
}

/* An unknown verb of 240 characters: `<seq> ERR code=UNKNOWN_VERB msg=unknown verb '...'`. */
static void unknown_verb(uint32_t seq)
{
    line_len = 0;
    add_u32(seq % 10000u + 10000u);
    add(" ");
    while (line_len < 250u) add("X");
    finish(256, false);
}

/* The longest valid request (SET DD at format maxima is refused; this one is executed): OK SET
 * with the read-back CRC. Channel 4 is OFF. */
static void longest_set(uint32_t seq)
{
    line_len = 0;
    add_u32(seq % 10000u + 10000u);
    add(" SET ch=4 mode=DD f=149000 f2=150000 dwell=60000 pw=600 wf=ASYM amp=20000 dur=3600 ramp=1000");
    finish(0, false);
}

/* 300 bytes without a newline until the end: TOO_LONG. */
static void too_long(uint32_t seq)
{
    (void)seq;
    line_len = 0;
    while (line_len < 299u) line[line_len++] = 'A';
    line[line_len++] = '\n';
}

/* STATUS with four channels: the longest reply of this device built from state. */
static void status(uint32_t seq)
{
    line_len = 0;
    add_u32(seq % 10000u + 10000u);
    add(" STATUS");
    finish(0, false);
}

static const struct {
    const char *name;
    build_t build;
} candidates[] = {
    {"misdirected 256-byte OK HELLO (full decode, BAD_FRAME)", misdirected_hello},
    {"256-byte request with 48 unknown keys (BAD_ARG)", unknown_keys},
    {"256-byte line with a bad CRC (BAD_CRC)", bad_crc},
    {"256-byte unknown verb (UNKNOWN_VERB with msg)", unknown_verb},
    {"longest executed request, SET DD (OK SET, read-back CRC)", longest_set},
    {"300-byte line (TOO_LONG)", too_long},
    {"STATUS (4 channels)", status},
};

static void feed(const char *text)
{
    size_t n = 0;
    while (text[n] != '\0') n++;
    edn_rx(&device, (const uint8_t *)text, n);
}


static uint32_t ticks_since(uint32_t t0) { return t0 - CMSDK_TIMER0->VALUE; }

/* The stack is the 1024 bytes below _estack; the painted words below its deepest use are intact. */
static uint32_t stack_high_water(void)
{
    const uint32_t *w = (const uint32_t *)((uintptr_t)&_estack - 1024u);
    while (w < &_estack && *w == 0xA5A5A5A5u) w++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)w);
}

int main(void)
{
    /* Paint the unused stack (everything below this frame) to find its high-water mark later. */
    {
        uintptr_t sp;
        __asm__ volatile("mov %0, sp" : "=r"(sp));
        for (uintptr_t w = (uintptr_t)&_estack - 1024u; w + 64u < sp; w += 4u) *(volatile uint32_t *)w = 0xA5A5A5A5u;
    }
    CMSDK_TIMER0->RELOAD = 0xFFFFFFFFu;
    CMSDK_TIMER0->VALUE = 0xFFFFFFFFu;
    CMSDK_TIMER0->CTRL = 1u;
    uart_init(&uart0, 115200u, IRQ_UART0_RX, IRQ_UART0_TX);

    edn_config_t cfg = {"EDN-FW-M3", "1.0.0", "MPS2-0001", EDN_MAX_CHANNELS, edn_compiled_limits};
    sim_stage_init(&stage, cfg.channels, SIM_STAGE_DEFAULT_LOAD, 1u, cfg.limits.vc);
    (void)edn_init(&device, &cfg);
    feed("0 HELLO vmin=1 vmax=1 *11DF\n");
    /* Channels 1-3 ON (channel 4 stays free for the SET candidate). */
    for (uint32_t ch = 1; ch <= 3u; ch++) {
        line_len = 0;
        add_u32(ch * 2u);
        add(" SET ch=");
        add_u32(ch);
        add(" mode=BURST f=2000 f2=100000 n=7 pw=250 wf=SYM amp=4000 dur=1200 ramp=1000");
        finish(0, false);
        edn_rx(&device, line, line_len);
        line_len = 0;
        add_u32(ch * 2u + 1u);
        add(" START ch=");
        add_u32(ch);
        finish(0, false);
        edn_rx(&device, line, line_len);
    }

    print("edn firmware budget on Cortex-M3 (QEMU mps2-an385, -icount shift=0: 1 instruction = 1 ns)\n");
    uint32_t worst = 0;
    const char *worst_name = "";
    for (unsigned c = 0; c < sizeof candidates / sizeof candidates[0]; c++) {
        uint32_t total = 0;
        size_t bytes = 0;
        for (uint32_t rep = 0; rep < REPS; rep++) {
            candidates[c].build(rep);
            bytes = line_len;
            uint32_t t0 = CMSDK_TIMER0->VALUE;
            edn_rx(&device, line, line_len);
            total += ticks_since(t0);
        }
        uint32_t instr = total * TICK_NS / REPS;
        print("  ");
        print(candidates[c].name);
        print(": ");
        print_u32((uint32_t)bytes);
        print(" bytes, ");
        print_u32(instr);
        print(" instructions\n");
        if (instr > worst) {
            worst = instr;
            worst_name = candidates[c].name;
        }
    }

    /* ESTOP: from the LF to the output stage's all-off (the line is built once; it is executed
     * even as a retry). Then CLEAR and back to three channels ON is not needed for what follows. */
    line_len = 0;
    add("60000 ESTOP");
    finish(0, false);
    uint32_t e_total = 0;
    for (uint32_t rep = 0; rep < REPS; rep++) {
        armed = true;
        edn_rx(&device, line, line_len - 1u);
        uint32_t t0 = CMSDK_TIMER0->VALUE;
        edn_rx(&device, line + line_len - 1u, 1u);
        e_total += t0 - all_off_at;
    }
    print("  ESTOP, from its LF to the output stage's all-off: ");
    print_u32(e_total * TICK_NS / REPS);
    print(" instructions\n");

    /* One millisecond of the device's clock with four channels ON: four TEL lines and the tick. */
    line_len = 0;
    add("61001 CLEAR");
    finish(0, false);
    edn_rx(&device, line, line_len);
    for (uint32_t ch = 1; ch <= 4u; ch++) {
        line_len = 0;
        add_u32(61010u + ch * 2u);
        add(" SET ch=");
        add_u32(ch);
        add(" mode=CONT f=150000 pw=600 wf=SYM amp=20000 dur=1200 ramp=1000");
        finish(0, false);
        edn_rx(&device, line, line_len);
        line_len = 0;
        add_u32(61011u + ch * 2u);
        add(" START ch=");
        add_u32(ch);
        finish(0, false);
        edn_rx(&device, line, line_len);
    }
    uint32_t p_worst = 0;
    for (uint32_t k = 0; k < 20u; k++) {
        clock_ms += 100u; /* every channel's TEL is due, and a control tick */
        uint32_t t0 = CMSDK_TIMER0->VALUE;
        edn_poll(&device);
        uint32_t ticks = ticks_since(t0);
        if (ticks > p_worst) p_worst = ticks;
        device.last_valid_ms = clock_ms; /* keep the session (not timed) */
    }
    print("  edn_poll with 4 TEL lines and the control tick due: ");
    print_u32(p_worst * TICK_NS);
    print(" instructions (worst of 20)\n");

    uint32_t budget_us = worst / 25u; /* at 25 MHz and 1 cycle per instruction */
    print("worst line: ");
    print(worst_name);
    print(": ");
    print_u32(worst);
    print(" instructions = ");
    print_u32(budget_us);
    print(" us at 25 MHz (1 instruction/cycle), ");
    print_u32(worst * 2u / 25u);
    print(" us at 2 cycles/instruction; the line itself takes ");
    print_u32(LINE_TIME_US);
    print(" us on the wire at 115200 baud (");
    print_u32(worst * 2u * 1000u / 25u / LINE_TIME_US);
    print(" per mille of it at 2 cycles/instruction)\n");
    print("stack high-water mark: ");
    print_u32(stack_high_water());
    print(" of 1024 bytes\n");
    uart_flush(&uart0);
    semihosting_exit();
    for (;;) {
    }
}
