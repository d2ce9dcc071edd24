/*
 * The conformance vectors (PROTOCOL.md §14.4) against the C receiver, decoder and encoder, driven
 * by firmware-protocol/vectors.c.test.ts (test/firmware/vectors.test.ts). One command per line on
 * stdin, one JSON answer per line on stdout:
 *
 *     device HEX     feed the bytes (the vector's line + LF) to a fresh receiver and the device's
 *                    decoder: {"ok":true,"message":{...}} (the request as §14.2 writes it) or
 *                    {"ok":false,"error":"BAD_ARG","errorSeq":7|null}
 *     host HEX       the same bytes through a host's decoder (replies and events only):
 *                    {"ok":true,"type":"ok"|"err"|"event"} or the error as above
 *     selftest       the CRC (PROTOCOL.md §3 known values; the table against the spec's bitwise
 *                    loop on every byte value and 10000 pseudo-random strings) and the SET read-back
 *                    CRC of the worked example: {"ok":true} or {"ok":false,"failed":"..."}
 *     encode FIELDS  encode a device-to-host message given as tab-separated fields
 *                    (type, seq or "!", verb or event, then key, value pairs with JSON-free
 *                    values: numbers decimal, flags 0/1, msg as plain text); answers
 *                    {"line":"..."} (without LF) or {"error":"..."}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/edn_codec.h"
#include "core/edn_crc.h"
#include "core/edn_rx.h"

static void put_json_string(const char *s, size_t n)
{
    (void)putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i];
        if (c == '"' || c == '\\') (void)printf("\\%c", (char)c);
        else if (c < 0x20u || c > 0x7Eu) (void)printf("\\u%04x", c);
        else (void)putchar((int)c);
    }
    (void)putchar('"');
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t k = 0;
    while (s[0] != '\0' && s[1] != '\0' && k < cap) {
        int hi = hexval(s[0]), lo = hexval(s[1]);
        if (hi < 0 || lo < 0) break;
        out[k++] = (uint8_t)(hi * 16 + lo);
        s += 2;
    }
    return k;
}

static void print_error(const edn_decode_t *r)
{
    (void)printf("{\"ok\":false,\"error\":\"%s\",\"errorSeq\":", edn_error_names[r->code]);
    if (r->has_seq) (void)printf("%u}\n", (unsigned)r->seq);
    else (void)printf("null}\n");
}

static void print_request(const edn_request_t *q)
{
    (void)printf("{\"ok\":true,\"message\":{\"type\":\"request\",\"seq\":%u,\"verb\":\"%s\",\"args\":{", (unsigned)q->seq,
                 edn_verb_names[q->verb]);
    const edn_program_t *p = &q->program;
    switch (q->verb) {
    case EDN_V_HELLO: (void)printf("\"vmin\":%u,\"vmax\":%u", q->vmin, q->vmax); break;
    case EDN_V_SET:
        (void)printf("\"ch\":%u,\"mode\":\"%s\",\"f\":%lu", p->ch, edn_mode_names[p->mode], (unsigned long)p->f);
        if (p->mode != EDN_MODE_CONT) (void)printf(",\"f2\":%lu", (unsigned long)p->f2);
        if (p->mode == EDN_MODE_DD) (void)printf(",\"dwell\":%lu", (unsigned long)p->dwell);
        if (p->mode == EDN_MODE_BURST) (void)printf(",\"n\":%u", p->n);
        (void)printf(",\"pw\":%lu,\"wf\":\"%s\",\"amp\":%lu,\"dur\":%lu,\"ramp\":%lu", (unsigned long)p->pw, edn_wf_names[p->wf],
                     (unsigned long)p->amp, (unsigned long)p->dur, (unsigned long)p->ramp);
        break;
    case EDN_V_START:
    case EDN_V_IMP: (void)printf("\"ch\":%u", q->ch); break;
    case EDN_V_AMP: (void)printf("\"ch\":%u,\"amp\":%lu", q->ch, (unsigned long)q->amp); break;
    case EDN_V_STOP:
        if (q->ch != 0u) (void)printf("\"ch\":%u", q->ch);
        break;
    default: break;
    }
    (void)printf("}}}\n");
}

static void decode_device(const char *hex)
{
    static uint8_t bytes[4096];
    size_t n = unhex(hex, bytes, sizeof bytes);
    edn_rx_t rx;
    edn_rx_reset(&rx);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *line = NULL;
        size_t len = 0;
        edn_rx_result_t r = edn_rx_byte(&rx, bytes[i], &line, &len);
        if (r == EDN_RX_TOO_LONG) {
            (void)printf("{\"ok\":false,\"error\":\"TOO_LONG\",\"errorSeq\":null}\n");
            return;
        }
        if (r == EDN_RX_LINE) {
            edn_request_t q;
            edn_decode_t res;
            if (edn_decode_request(line, len, &q, &res) != EDN_E_NONE) print_error(&res);
            else print_request(&q);
            return;
        }
    }
    (void)printf("{\"ok\":false,\"error\":\"none\",\"errorSeq\":null}\n");
}

static void decode_host(const char *hex)
{
    static uint8_t bytes[4096];
    size_t n = unhex(hex, bytes, sizeof bytes);
    if (n > 0u && bytes[n - 1u] == '\n') n--;
    edn_decode_t res;
    static const char *const kinds[] = {"request", "ok", "err", "event"};
    if (edn_decode(bytes, n, NULL, &res) != EDN_E_NONE) {
        print_error(&res);
    } else if (res.kind == EDN_MSG_REQUEST) {
        (void)printf("{\"ok\":false,\"error\":\"BAD_FRAME\",\"errorSeq\":null}\n"); /* §4.4: a host accepts no request */
    } else {
        (void)printf("{\"ok\":true,\"type\":\"%s\"}\n", kinds[res.kind]);
    }
}

/* ---- encode: fields by key ---------------------------------------------------------------- */

#define MAX_FIELDS 40
static const char *keys[MAX_FIELDS];
static const char *vals[MAX_FIELDS];
static int nfields;

static const char *field(const char *key)
{
    for (int i = 0; i < nfields; i++) {
        if (strcmp(keys[i], key) == 0) return vals[i];
    }
    return NULL;
}

static uint32_t num(const char *key) { const char *v = field(key); return v == NULL ? 0u : (uint32_t)strtoul(v, NULL, 10); }
static uint32_t hexnum(const char *key) { const char *v = field(key); return v == NULL ? 0u : (uint32_t)strtoul(v, NULL, 16); }
static uint32_t ohm(const char *key) { const char *v = field(key); return v != NULL && strcmp(v, "OPEN") == 0 ? EDN_Z_OPEN : num(key); }

static int index_of(const char *v, const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        if (v != NULL && strcmp(v, names[i]) == 0) return i;
    }
    return -1;
}

static void encode(char *spec)
{
    char *parts[2 + 2 * MAX_FIELDS + 1];
    int np = 0;
    for (char *p = strtok(spec, "\t"); p != NULL && np < (int)(sizeof parts / sizeof parts[0]); p = strtok(NULL, "\t")) parts[np++] = p;
    if (np < 3) {
        (void)printf("{\"error\":\"need type, seq and name\"}\n");
        return;
    }
    nfields = 0;
    for (int i = 3; i + 1 < np && nfields < MAX_FIELDS; i += 2) {
        keys[nfields] = parts[i];
        vals[nfields] = parts[i + 1];
        nfields++;
    }
    const char *type = parts[0], *name = parts[2];
    bool has_seq = strcmp(parts[1], "!") != 0;
    uint16_t seq = has_seq ? (uint16_t)strtoul(parts[1], NULL, 10) : 0u;
    edn_line_t l;
    if (strcmp(type, "err") == 0) {
        int code = index_of(field("code"), edn_error_names, EDN_E_COUNT);
        edn_enc_err(&l, has_seq, seq, (uint8_t)(code < 0 ? 0 : code), field("msg"));
    } else if (strcmp(type, "event") == 0) {
        int ev = index_of(name, edn_event_names, EDN_N_COUNT);
        switch (ev) {
        case EDN_N_TEL: edn_enc_tel(&l, (uint8_t)num("ch"), num("amp"), num("i"), ohm("z"), num("q")); break;
        case EDN_N_DONE: edn_enc_done(&l, (uint8_t)num("ch")); break;
        case EDN_N_FAULT: edn_enc_fault(&l, (uint8_t)num("ch"), (uint8_t)index_of(field("code"), edn_fault_names, 4)); break;
        case EDN_N_WDOG: edn_enc_wdog(&l); break;
        case EDN_N_BOOT: edn_enc_boot(&l, (uint8_t)num("proto"), hexnum("boot")); break;
        default: (void)printf("{\"error\":\"unknown event\"}\n"); return;
        }
    } else {
        int verb = index_of(name, edn_verb_names, EDN_V_COUNT);
        switch (verb) {
        case EDN_V_HELLO: {
            edn_identity_t id = {field("model"), field("fw"), field("sn")};
            edn_limits_t lim = {num("fmin"), num("fmax"), num("pwmin"), num("pwmax"), num("amin"), num("amax"),
                                num("qmax"), num("tmax"), num("vc"), num("wdog"), 0};
            if (id.model == NULL || id.fw == NULL || id.sn == NULL) {
                (void)printf("{\"error\":\"HELLO without identity\"}\n");
                return;
            }
            edn_enc_ok_hello(&l, seq, (uint8_t)num("proto"), &id, hexnum("boot"), (uint8_t)num("ch"), &lim);
            break;
        }
        case EDN_V_SET: edn_enc_ok_set(&l, seq, (uint8_t)num("ch"), (uint16_t)hexnum("crc")); break;
        case EDN_V_START:
        case EDN_V_STOP: edn_enc_ok_ch(&l, seq, (uint8_t)verb, (uint8_t)num("ch")); break;
        case EDN_V_AMP: edn_enc_ok_amp(&l, seq, (uint8_t)num("ch"), num("amp")); break;
        case EDN_V_ESTOP:
        case EDN_V_CLEAR: edn_enc_ok_latched(&l, seq, (uint8_t)verb, num("latched") != 0u); break;
        case EDN_V_HB: edn_enc_ok_hb(&l, seq); break;
        case EDN_V_STATUS: {
            static const char *const s_keys[8] = {"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"};
            uint8_t states[8];
            uint8_t n = 0;
            while (n < 8u && field(s_keys[n]) != NULL) {
                states[n] = (uint8_t)index_of(field(s_keys[n]), edn_ch_state_names, 4);
                n++;
            }
            edn_enc_ok_status(&l, seq, hexnum("boot"), num("latched") != 0u, num("up"), n, states);
            break;
        }
        case EDN_V_IMP: edn_enc_ok_imp(&l, seq, (uint8_t)num("ch"), ohm("z")); break;
        default: (void)printf("{\"error\":\"unknown verb\"}\n"); return;
        }
    }
    size_t n = edn_line_end(&l);
    if (n == 0u) {
        (void)printf("{\"error\":\"line over 256 bytes\"}\n");
        return;
    }
    (void)printf("{\"line\":");
    put_json_string((const char *)l.b, n - 1u);
    (void)printf("}\n");
}

static void selftest(void)
{
    static const struct {
        const char *text;
        uint16_t crc;
    } known[] = {{"", 0xFFFFu}, {"123456789", 0x29B1u}, {"A", 0xB915u}, {"5 HB", 0x7E49u},
                 {"ch=1 mode=CONT f=2000 pw=250 wf=SYM amp=4000 dur=1200 ramp=1000", 0x30DCu}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].text);
        if (edn_crc16((const uint8_t *)known[i].text, n) != known[i].crc || edn_crc16_bitwise((const uint8_t *)known[i].text, n) != known[i].crc) {
            (void)printf("{\"ok\":false,\"failed\":\"known value of '%s'\"}\n", known[i].text);
            return;
        }
    }
    uint8_t buf[300];
    uint32_t rng = 12345u;
    for (unsigned k = 0; k < 10256u; k++) {
        size_t n = k < 256u ? 1u : (size_t)(rng % 300u);
        for (size_t i = 0; i < n; i++) {
            rng = rng * 1103515245u + 12345u;
            buf[i] = k < 256u ? (uint8_t)k : (uint8_t)(rng >> 16);
        }
        if (edn_crc16(buf, n) != edn_crc16_bitwise(buf, n)) {
            (void)printf("{\"ok\":false,\"failed\":\"table and bitwise CRC differ (case %u)\"}\n", k);
            return;
        }
    }
    edn_program_t p = {1, EDN_MODE_CONT, EDN_WF_SYM, 0, 2000, 0, 0, 250, 4000, 1200, 1000};
    edn_line_t scratch;
    if (edn_program_crc(&p, &scratch) != 0x30DCu) {
        (void)printf("{\"ok\":false,\"failed\":\"read-back CRC of the worked example\"}\n");
        return;
    }
    (void)printf("{\"ok\":true}\n");
}

int main(void)
{
    static char line[8192];
    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t n = strlen(line);
        while (n > 0u && (line[n - 1u] == '\n' || line[n - 1u] == '\r')) line[--n] = '\0';
        if (strncmp(line, "device ", 7) == 0) decode_device(line + 7);
        else if (strncmp(line, "host ", 5) == 0) decode_host(line + 5);
        else if (strncmp(line, "encode ", 7) == 0) encode(line + 7);
        else if (strcmp(line, "selftest") == 0) selftest();
        else (void)printf("{\"error\":\"unknown command\"}\n");
        (void)fflush(stdout);
    }
    return 0;
}
