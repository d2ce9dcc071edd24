/* See event_json.h. JSON key order and number forms follow JSON.stringify of SimEvent. */
#include "event_json.h"

#include "core/edn_codec.h"

typedef struct {
    char *b;
    size_t n, cap;
} out_t;

static void put(out_t *o, char c)
{
    if (o->n + 1u < o->cap) o->b[o->n++] = c;
}

static void puts_(out_t *o, const char *s)
{
    while (*s != '\0') put(o, *s++);
}

static void put_u32(out_t *o, unsigned long v)
{
    char d[12];
    unsigned n = 0;
    do {
        d[n++] = (char)('0' + (char)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0u) put(o, d[--n]);
}

static const char hex[] = "0123456789ABCDEF";
static const char hexlower[] = "0123456789abcdef";

/* uA as mA the way JavaScript prints ua / 1000: "4", "1.5", "0.001". */
static void put_ma(out_t *o, unsigned long ua)
{
    put_u32(o, ua / 1000u);
    unsigned long frac = ua % 1000u;
    if (frac == 0u) return;
    char d[3] = {(char)('0' + (char)(frac / 100u)), (char)('0' + (char)(frac / 10u % 10u)), (char)('0' + (char)(frac % 10u))};
    unsigned n = 3;
    while (d[n - 1u] == '0') n--;
    put(o, '.');
    for (unsigned i = 0; i < n; i++) put(o, d[i]);
}

/* A JSON string of latin1 bytes: JSON.stringify escapes ", \ and control characters; bytes above
 * 0x7E are written \u00XX (the same string once parsed). */
static void put_json_bytes(out_t *o, const uint8_t *s, size_t n)
{
    put(o, '"');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == (uint8_t)'"' || c == (uint8_t)'\\') {
            put(o, '\\');
            put(o, (char)c);
        } else if (c == 0x08u) {
            puts_(o, "\\b");
        } else if (c == 0x09u) {
            puts_(o, "\\t");
        } else if (c == 0x0Au) {
            puts_(o, "\\n");
        } else if (c == 0x0Cu) {
            puts_(o, "\\f");
        } else if (c == 0x0Du) {
            puts_(o, "\\r");
        } else if (c < 0x20u || c > 0x7Eu) {
            puts_(o, "\\u00");
            put(o, hexlower[c >> 4]);
            put(o, hexlower[c & 0xFu]);
        } else {
            put(o, (char)c);
        }
    }
    put(o, '"');
}

size_t event_json(const edn_event_t *e, char *buf, size_t cap)
{
    out_t o = {buf, 0, cap};
    switch (e->kind) {
    case EDN_EV_OUTPUT:
        puts_(&o, "{\"event\":\"output\",\"channel\":");
        put_u32(&o, e->ch);
        puts_(&o, e->on ? ",\"on\":true,\"amplitudeMa\":" : ",\"on\":false,\"amplitudeMa\":");
        put_ma(&o, e->ua);
        put(&o, '}');
        break;
    case EDN_EV_WATCHDOG: puts_(&o, "{\"event\":\"watchdog\"}"); break;
    case EDN_EV_ESTOP: puts_(&o, "{\"event\":\"estop\"}"); break;
    case EDN_EV_CLEAR: puts_(&o, "{\"event\":\"clear\"}"); break;
    case EDN_EV_FAULT:
        puts_(&o, "{\"event\":\"fault\",\"channel\":");
        put_u32(&o, e->ch);
        puts_(&o, ",\"code\":\"");
        puts_(&o, edn_fault_names[e->code & 3u]);
        puts_(&o, "\"}");
        break;
    case EDN_EV_BOOT:
        puts_(&o, "{\"event\":\"boot\",\"bootId\":\"");
        for (unsigned i = 8; i > 0u; i--) put(&o, hex[(e->boot >> ((i - 1u) * 4u)) & 0xFu]);
        puts_(&o, "\"}");
        break;
    case EDN_EV_DONE:
        puts_(&o, "{\"event\":\"done\",\"channel\":");
        put_u32(&o, e->ch);
        put(&o, '}');
        break;
    default:
        puts_(&o, "{\"event\":\"rejected\",\"code\":\"");
        puts_(&o, edn_error_names[e->code < EDN_E_COUNT ? e->code : 0u]);
        puts_(&o, "\",\"line\":");
        put_json_bytes(&o, e->line, e->line == NULL ? 0u : e->len);
        put(&o, '}');
        break;
    }
    if (o.cap > 0u) o.b[o.n] = '\0';
    return o.n;
}
