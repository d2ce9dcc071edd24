/*
 * PROTOCOL.md §3 to §7: decoding (§4.4, step by step) and encoding (§4.3 canonical order, §5 value
 * formats). Table-driven: one table of keys in canonical order with each key's value format (§5),
 * and one schema per message saying which keys it allows and requires (§6, §7).
 */
#include "edn_codec.h"

#include "edn_crc.h"

/* ---- names (§6, §7, §8) --------------------------------------------------------------------- */

const char *const edn_error_names[EDN_E_COUNT] = {
    "",        "BAD_CRC",  "BAD_FRAME", "TOO_LONG", "UNKNOWN_VERB", "BAD_ARG", "RANGE",
    "CHARGE",  "VERSION",  "NO_HELLO",  "LATCHED",  "STATE",        "INTERNAL",
};
const char *const edn_verb_names[EDN_V_COUNT] = {"HELLO", "SET",   "START", "AMP",    "STOP",
                                                 "ESTOP", "CLEAR", "HB",    "STATUS", "IMP"};
const char *const edn_event_names[EDN_N_COUNT] = {"TEL", "DONE", "FAULT", "WDOG", "BOOT"};
const char *const edn_mode_names[3] = {"CONT", "DD", "BURST"};
const char *const edn_wf_names[2] = {"SYM", "ASYM"};
const char *const edn_ch_state_names[4] = {"OFF", "STAGED", "ON", "DONE"};
const char *const edn_fault_names[4] = {"OPEN", "COMPLIANCE", "OVERCURRENT", "INTERNAL"};

/* ---- small string helpers (no libc needed in the core) --------------------------------------- */

static size_t cstrlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

/* The bytes s[0..n) equal the NUL-terminated word w. */
static bool mem_is(const uint8_t *s, size_t n, const char *w)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (w[i] == '\0' || (uint8_t)w[i] != s[i]) return false;
    }
    return w[i] == '\0';
}

/* Index of s[0..n) in words[0..count), or -1. */
static int word_index(const uint8_t *s, size_t n, const char *const *words, int count)
{
    if (n == 0u) return -1;
    for (int i = 0; i < count; i++) {
        if ((uint8_t)words[i][0] == s[0] && mem_is(s, n, words[i])) return i;
    }
    return -1;
}

static bool is_digit(uint8_t c) { return c >= (uint8_t)'0' && c <= (uint8_t)'9'; }
static bool is_lower(uint8_t c) { return c >= (uint8_t)'a' && c <= (uint8_t)'z'; }
static bool is_hexup(uint8_t c) { return is_digit(c) || (c >= (uint8_t)'A' && c <= (uint8_t)'F'); }
static unsigned hex_val(uint8_t c) { return is_digit(c) ? (unsigned)(c - (uint8_t)'0') : (unsigned)(c - (uint8_t)'A') + 10u; }
/* §5 text: the bytes written as themselves. */
static bool is_unreserved(uint8_t c)
{
    return is_digit(c) || is_lower(c) || (c >= (uint8_t)'A' && c <= (uint8_t)'Z') || c == (uint8_t)'.' ||
           c == (uint8_t)'_' || c == (uint8_t)'~' || c == (uint8_t)'-';
}
/* §4.2 vchar: printable ASCII except SP, '*' and '='. */
static bool is_vchar(uint8_t c) { return c >= 0x21u && c <= 0x7Eu && c != (uint8_t)'*' && c != (uint8_t)'='; }

void edn_text_init(edn_text_t *t, char *buf, size_t cap)
{
    t->s = buf;
    t->n = 0;
    t->cap = cap;
    if (cap > 0u) buf[0] = '\0';
}

void edn_text_mem(edn_text_t *t, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n && t->n + 1u < t->cap; i++) t->s[t->n++] = (char)s[i];
    if (t->cap > 0u) t->s[t->n] = '\0';
}

void edn_text_str(edn_text_t *t, const char *s) { edn_text_mem(t, (const uint8_t *)s, cstrlen(s)); }

/* Decimal digits of v into d (most significant first); returns the count (1..10). */
static unsigned u32_digits(uint32_t v, char d[10])
{
    char tmp[10];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + (char)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    for (unsigned i = 0; i < n; i++) d[i] = tmp[n - 1u - i];
    return n;
}

void edn_text_u32(edn_text_t *t, uint32_t v)
{
    char d[10];
    unsigned n = u32_digits(v, d);
    edn_text_mem(t, (const uint8_t *)d, n);
}

/* ---- keys and their value formats (§4.3 canonical order, §5 formats) -------------------------- */

enum {
    K_VMIN, K_VMAX, K_PROTO, K_MODEL, K_FW, K_SN, K_BOOT, K_CH, K_FMIN, K_FMAX, K_PWMIN, K_PWMAX,
    K_AMIN, K_AMAX, K_QMAX, K_TMAX, K_VC, K_WDOG, K_MODE, K_F, K_F2, K_DWELL, K_N, K_PW, K_WF,
    K_AMP, K_DUR, K_RAMP, K_CRC, K_I, K_Z, K_Q, K_LATCHED, K_UP, K_S1, K_S2, K_S3, K_S4, K_S5,
    K_S6, K_S7, K_S8, K_CODE, K_MSG, K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "vmin", "vmax", "proto", "model", "fw",   "sn",  "boot", "ch",  "fmin", "fmax", "pwmin",
    "pwmax", "amin", "amax", "qmax", "tmax", "vc",   "wdog", "mode", "f",   "f2",   "dwell",
    "n",    "pw",   "wf",   "amp",  "dur",  "ramp", "crc", "i",   "z",   "q",    "latched",
    "up",   "s1",   "s2",   "s3",   "s4",   "s5",   "s6",  "s7",  "s8",  "code", "msg",
};

typedef enum { T_UINT, T_WORD, T_HEX4, T_HEX8, T_TOKEN, T_FLAG, T_OHM, T_TEXT } vtype_t;

typedef struct {
    uint8_t type;
    uint8_t words; /* T_WORD: which list (W_*) */
    uint32_t min, max;
} vformat_t;

enum { W_MODE, W_WF, W_STATE, W_ERROR, W_FAULT };

/* §6 and §7: the format range of each key (the same in every message, except FAULT's ch and code,
 * handled by the FAULT schema). */
static const vformat_t key_formats[K_COUNT] = {
    [K_VMIN] = {T_UINT, 0, 1u, 255u},       [K_VMAX] = {T_UINT, 0, 1u, 255u},
    [K_PROTO] = {T_UINT, 0, 1u, 255u},      [K_MODEL] = {T_TOKEN, 0, 0u, 0u},
    [K_FW] = {T_TOKEN, 0, 0u, 0u},          [K_SN] = {T_TOKEN, 0, 0u, 0u},
    [K_BOOT] = {T_HEX8, 0, 0u, 0u},         [K_CH] = {T_UINT, 0, 1u, EDN_WIRE_MAX_CHANNELS},
    [K_FMIN] = {T_UINT, 0, 1u, 1000000u},   [K_FMAX] = {T_UINT, 0, 1u, 1000000u},
    [K_PWMIN] = {T_UINT, 0, 1u, 10000u},    [K_PWMAX] = {T_UINT, 0, 1u, 10000u},
    [K_AMIN] = {T_UINT, 0, 0u, 100000u},    [K_AMAX] = {T_UINT, 0, 0u, 100000u},
    [K_QMAX] = {T_UINT, 0, 1u, 10000000u},  [K_TMAX] = {T_UINT, 0, 1u, 86400u},
    [K_VC] = {T_UINT, 0, 1u, 1000u},        [K_WDOG] = {T_UINT, 0, 1u, 10000u},
    [K_MODE] = {T_WORD, W_MODE, 0u, 0u},    [K_F] = {T_UINT, 0, 1u, 1000000u},
    [K_F2] = {T_UINT, 0, 1u, 1000000u},     [K_DWELL] = {T_UINT, 0, 100u, 60000u},
    [K_N] = {T_UINT, 0, 1u, 100u},          [K_PW] = {T_UINT, 0, 1u, 10000u},
    [K_WF] = {T_WORD, W_WF, 0u, 0u},        [K_AMP] = {T_UINT, 0, 0u, 100000u},
    [K_DUR] = {T_UINT, 0, 1u, 86400u},      [K_RAMP] = {T_UINT, 0, 1u, 100000u},
    [K_CRC] = {T_HEX4, 0, 0u, 0u},          [K_I] = {T_UINT, 0, 0u, 100000u},
    [K_Z] = {T_OHM, 0, 0u, 0u},             [K_Q] = {T_UINT, 0, 0u, 4294967295u},
    [K_LATCHED] = {T_FLAG, 0, 0u, 0u},      [K_UP] = {T_UINT, 0, 0u, 4294967295u},
    [K_S1] = {T_WORD, W_STATE, 0u, 0u},     [K_S2] = {T_WORD, W_STATE, 0u, 0u},
    [K_S3] = {T_WORD, W_STATE, 0u, 0u},     [K_S4] = {T_WORD, W_STATE, 0u, 0u},
    [K_S5] = {T_WORD, W_STATE, 0u, 0u},     [K_S6] = {T_WORD, W_STATE, 0u, 0u},
    [K_S7] = {T_WORD, W_STATE, 0u, 0u},     [K_S8] = {T_WORD, W_STATE, 0u, 0u},
    [K_CODE] = {T_WORD, W_ERROR, 0u, 0u},   [K_MSG] = {T_TEXT, 0, 0u, 0u},
};

static const char *const *word_list(unsigned w, int *count)
{
    switch (w) {
    case W_MODE: *count = 3; return edn_mode_names;
    case W_WF: *count = 2; return edn_wf_names;
    case W_STATE: *count = 4; return edn_ch_state_names;
    case W_FAULT: *count = 4; return edn_fault_names;
    default: *count = (int)EDN_E_COUNT - 1; return edn_error_names + 1;
    }
}

#define BIT(k) ((uint64_t)1u << (unsigned)(k))
#define S_ALL (BIT(K_S1) | BIT(K_S2) | BIT(K_S3) | BIT(K_S4) | BIT(K_S5) | BIT(K_S6) | BIT(K_S7) | BIT(K_S8))

typedef struct {
    uint64_t allowed, required;
} schema_t;

/* §6: request arguments. SET depends on its mode (checked separately); HELLO also needs vmin <= vmax. */
static const schema_t request_schemas[EDN_V_COUNT] = {
    [EDN_V_HELLO] = {BIT(K_VMIN) | BIT(K_VMAX), BIT(K_VMIN) | BIT(K_VMAX)},
    [EDN_V_SET] = {0u, 0u},
    [EDN_V_START] = {BIT(K_CH), BIT(K_CH)},
    [EDN_V_AMP] = {BIT(K_CH) | BIT(K_AMP), BIT(K_CH) | BIT(K_AMP)},
    [EDN_V_STOP] = {BIT(K_CH), 0u},
    [EDN_V_ESTOP] = {0u, 0u},
    [EDN_V_CLEAR] = {0u, 0u},
    [EDN_V_HB] = {0u, 0u},
    [EDN_V_STATUS] = {0u, 0u},
    [EDN_V_IMP] = {BIT(K_CH), BIT(K_CH)},
};

#define HELLO_REPLY_KEYS                                                                                       \
    (BIT(K_PROTO) | BIT(K_MODEL) | BIT(K_FW) | BIT(K_SN) | BIT(K_BOOT) | BIT(K_CH) | BIT(K_FMIN) | BIT(K_FMAX) | \
     BIT(K_PWMIN) | BIT(K_PWMAX) | BIT(K_AMIN) | BIT(K_AMAX) | BIT(K_QMAX) | BIT(K_TMAX) | BIT(K_VC) | BIT(K_WDOG))
#define STATUS_REQUIRED (BIT(K_LATCHED) | BIT(K_BOOT) | BIT(K_UP))

/* §6 and §7.1: OK reply arguments, per verb answered. */
static const schema_t reply_schemas[EDN_V_COUNT] = {
    [EDN_V_HELLO] = {HELLO_REPLY_KEYS, HELLO_REPLY_KEYS},
    [EDN_V_SET] = {BIT(K_CH) | BIT(K_CRC), BIT(K_CH) | BIT(K_CRC)},
    [EDN_V_START] = {BIT(K_CH), BIT(K_CH)},
    [EDN_V_AMP] = {BIT(K_CH) | BIT(K_AMP), BIT(K_CH) | BIT(K_AMP)},
    [EDN_V_STOP] = {BIT(K_CH), 0u},
    [EDN_V_ESTOP] = {BIT(K_LATCHED), BIT(K_LATCHED)},
    [EDN_V_CLEAR] = {BIT(K_LATCHED), BIT(K_LATCHED)},
    [EDN_V_HB] = {0u, 0u},
    [EDN_V_STATUS] = {STATUS_REQUIRED | S_ALL, STATUS_REQUIRED},
    [EDN_V_IMP] = {BIT(K_CH) | BIT(K_Z), BIT(K_CH) | BIT(K_Z)},
};

/* §7.3: event arguments. FAULT's ch is 0..8 and its code a fault code (see check_values). */
static const schema_t event_schemas[EDN_N_COUNT] = {
    [EDN_N_TEL] = {BIT(K_CH) | BIT(K_AMP) | BIT(K_I) | BIT(K_Z) | BIT(K_Q),
                   BIT(K_CH) | BIT(K_AMP) | BIT(K_I) | BIT(K_Z) | BIT(K_Q)},
    [EDN_N_DONE] = {BIT(K_CH), BIT(K_CH)},
    [EDN_N_FAULT] = {BIT(K_CH) | BIT(K_CODE), BIT(K_CH) | BIT(K_CODE)},
    [EDN_N_WDOG] = {0u, 0u},
    [EDN_N_BOOT] = {BIT(K_BOOT) | BIT(K_PROTO), BIT(K_BOOT) | BIT(K_PROTO)},
};

/* §7.2 ERR arguments. */
static const schema_t err_schema = {BIT(K_CODE) | BIT(K_MSG), BIT(K_CODE)};

/* §6.2 SET, per mode: the mode-dependent fields (the table "Mode-dependent fields"). */
#define SET_COMMON (BIT(K_CH) | BIT(K_MODE) | BIT(K_F) | BIT(K_PW) | BIT(K_WF) | BIT(K_AMP) | BIT(K_DUR) | BIT(K_RAMP))
static const uint64_t set_keys[3] = {SET_COMMON, SET_COMMON | BIT(K_F2) | BIT(K_DWELL), SET_COMMON | BIT(K_F2) | BIT(K_N)};

/* ---- the decoder (§4.4) ------------------------------------------------------------------------ */

typedef struct {
    uint64_t seen;
    uint16_t off[K_COUNT];
    uint8_t len[K_COUNT];
    bool unknown;          /* a syntactically valid key that no message has */
    uint8_t unknown_key;   /* offset/len of the first unknown key, for the message */
    uint16_t unknown_off;
} args_t;

static edn_error_t fail(edn_decode_t *res, edn_error_t code, bool has_seq, uint16_t seq, const char *msg)
{
    edn_text_t t;
    res->code = (uint8_t)code;
    res->has_seq = has_seq ? 1u : 0u;
    res->seq = has_seq ? seq : 0u;
    edn_text_init(&t, res->msg, sizeof res->msg);
    edn_text_str(&t, msg);
    return code;
}

/* The next token of body[*pos..blen): tokens are separated by single spaces (already checked). */
static bool next_token(const uint8_t *b, size_t blen, size_t *pos, size_t *start, size_t *tlen)
{
    if (*pos >= blen) return false;
    size_t s = *pos, e = s;
    while (e < blen && b[e] != (uint8_t)' ') e++;
    *start = s;
    *tlen = e - s;
    *pos = e + 1u;
    return true;
}

/* §5 uint: "0" or [1-9][0-9]* of at most 10 digits, in min..max. */
static bool parse_uint(const uint8_t *s, size_t n, uint32_t min, uint32_t max, uint32_t *out)
{
    if (n == 0u || n > 10u) return false;
    if (s[0] == (uint8_t)'0' && n > 1u) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return false;
        v = v * 10u + (uint64_t)(s[i] - (uint8_t)'0');
    }
    if (v < min || v > max) return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_hex(const uint8_t *s, size_t n, size_t digits, uint32_t *out)
{
    if (n != digits) return false;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_hexup(s[i])) return false;
        v = (v << 4) | hex_val(s[i]);
    }
    *out = v;
    return true;
}

/* §5 text: the wire form, and its decoded form (1..48 printable characters). */
static bool check_text(const uint8_t *s, size_t n)
{
    size_t decoded = 0;
    for (size_t i = 0; i < n; decoded++) {
        uint8_t c = s[i];
        if (c == (uint8_t)'%') {
            if (i + 2u >= n) return false;
            if (!is_hexup(s[i + 1u]) || !is_hexup(s[i + 2u])) return false;
            unsigned v = (hex_val(s[i + 1u]) << 4) | hex_val(s[i + 2u]);
            if (v < 0x20u || v > 0x7Eu) return false;
            i += 3u;
        } else if (is_unreserved(c)) {
            i++;
        } else {
            return false;
        }
    }
    return decoded >= 1u && decoded <= EDN_MAX_MSG_TEXT;
}

/* One value in its key's format (§5). */
static bool parse_value(const vformat_t *f, const uint8_t *s, size_t n, uint32_t *out)
{
    *out = 0;
    switch (f->type) {
    case T_UINT: return parse_uint(s, n, f->min, f->max, out);
    case T_WORD: {
        int count = 0;
        const char *const *words = word_list(f->words, &count);
        int i = word_index(s, n, words, count);
        if (i < 0) return false;
        *out = (uint32_t)i;
        return true;
    }
    case T_HEX4: return parse_hex(s, n, 4u, out);
    case T_HEX8: return parse_hex(s, n, 8u, out);
    case T_TOKEN:
        if (n < 1u || n > EDN_MAX_TOKEN) return false;
        for (size_t i = 0; i < n; i++) {
            uint8_t c = s[i];
            if (!(is_digit(c) || is_lower(c) || (c >= (uint8_t)'A' && c <= (uint8_t)'Z') || c == (uint8_t)'.' ||
                  c == (uint8_t)'_' || c == (uint8_t)'-'))
                return false;
        }
        return true;
    case T_FLAG:
        if (n != 1u || (s[0] != (uint8_t)'0' && s[0] != (uint8_t)'1')) return false;
        *out = (uint32_t)(s[0] - (uint8_t)'0');
        return true;
    case T_OHM:
        if (mem_is(s, n, "OPEN")) {
            *out = EDN_Z_OPEN;
            return true;
        }
        return n <= 7u && parse_uint(s, n, 0u, 9999999u, out);
    default: return check_text(s, n);
    }
}

static int key_index(const uint8_t *s, size_t n) { return word_index(s, n, key_names, K_COUNT); }

/*
 * §4.4 step 10: scan every argument token left to right. Ill-formed `key=value` is BAD_FRAME; a key
 * seen before in this frame is BAD_ARG (detected while scanning, so it wins over a later bad token).
 */
static edn_error_t scan_args(const uint8_t *b, size_t blen, size_t pos, args_t *a, edn_decode_t *res,
                             bool has_seq, uint16_t seq, const char *what)
{
    size_t first = pos, start = 0, tlen = 0;
    uint8_t unknown_hashes[32] = {0};
    a->seen = 0;
    a->unknown = false;
    a->unknown_key = 0;
    a->unknown_off = 0;
    while (next_token(b, blen, &pos, &start, &tlen)) {
        const uint8_t *t = b + start;
        size_t eq = 0;
        while (eq < tlen && t[eq] != (uint8_t)'=') eq++;
        if (eq == 0u || eq == tlen) return fail(res, EDN_E_BAD_FRAME, false, 0, "argument is not key=value");
        if (eq > EDN_MAX_KEY || !is_lower(t[0])) return fail(res, EDN_E_BAD_FRAME, false, 0, "ill-formed key");
        for (size_t i = 1; i < eq; i++) {
            if (!is_lower(t[i]) && !is_digit(t[i])) return fail(res, EDN_E_BAD_FRAME, false, 0, "ill-formed key");
        }
        size_t vlen = tlen - eq - 1u;
        if (vlen < 1u || vlen > EDN_MAX_VALUE) return fail(res, EDN_E_BAD_FRAME, false, 0, "ill-formed value");
        for (size_t i = eq + 1u; i < tlen; i++) {
            if (!is_vchar(t[i])) return fail(res, EDN_E_BAD_FRAME, false, 0, "ill-formed value");
        }
        int k = key_index(t, eq);
        bool dup = false;
        if (k >= 0) {
            dup = (a->seen & BIT(k)) != 0u;
            a->seen |= BIT(k);
            a->off[k] = (uint16_t)(start + eq + 1u);
            a->len[k] = (uint8_t)vlen;
        } else {
            /* An unknown key: compare it with the keys of the earlier tokens, but only when an
             * earlier unknown key had the same 8-bit hash (a 256-bit filter on the stack), so that
             * a line of many distinct unknown keys costs linear, not quadratic, time. */
            uint8_t h = 0x5Au;
            for (size_t i = 0; i < eq; i++) h = (uint8_t)((h ^ t[i]) * 0x1Du + 0x3Bu);
            uint8_t bit = (uint8_t)(1u << (h & 7u));
            bool maybe = (unknown_hashes[h >> 3] & bit) != 0u;
            unknown_hashes[h >> 3] = (uint8_t)(unknown_hashes[h >> 3] | bit);
            size_t p2 = first, s2 = 0, l2 = 0;
            while (maybe && next_token(b, blen, &p2, &s2, &l2) && s2 < start) {
                size_t e2 = 0;
                while (e2 < l2 && b[s2 + e2] != (uint8_t)'=') e2++;
                if (e2 == eq) {
                    size_t i = 0;
                    while (i < eq && b[s2 + i] == t[i]) i++;
                    if (i == eq) dup = true;
                }
            }
            if (!a->unknown) {
                a->unknown = true;
                a->unknown_off = (uint16_t)start;
                a->unknown_key = (uint8_t)eq;
            }
        }
        if (dup) {
            edn_text_t m;
            fail(res, EDN_E_BAD_ARG, has_seq, seq, "");
            edn_text_init(&m, res->msg, sizeof res->msg);
            edn_text_str(&m, what);
            edn_text_str(&m, ": duplicate argument '");
            edn_text_mem(&m, t, eq);
            edn_text_str(&m, "'");
            return EDN_E_BAD_ARG;
        }
    }
    return EDN_E_NONE;
}

/* A BAD_ARG naming the key: "<what>: <why> '<key>'". */
static edn_error_t bad_arg(edn_decode_t *res, bool has_seq, uint16_t seq, const char *what, const char *why,
                           const uint8_t *key, size_t klen)
{
    edn_text_t m;
    fail(res, EDN_E_BAD_ARG, has_seq, seq, "");
    edn_text_init(&m, res->msg, sizeof res->msg);
    edn_text_str(&m, what);
    edn_text_str(&m, ": ");
    edn_text_str(&m, why);
    edn_text_str(&m, " '");
    edn_text_mem(&m, key, klen);
    edn_text_str(&m, "'");
    return EDN_E_BAD_ARG;
}

/* §4.4 step 11: no unknown, missing or ill-valued argument. */
static edn_error_t check_args(const uint8_t *b, args_t *a, uint64_t allowed, uint64_t required, bool fault,
                              edn_decode_t *res, bool has_seq, uint16_t seq, const char *what)
{
    if (a->unknown) {
        return bad_arg(res, has_seq, seq, what, "unexpected argument", b + a->unknown_off, a->unknown_key);
    }
    uint64_t extra = a->seen & ~allowed;
    uint64_t missing = required & ~a->seen;
    for (int k = 0; k < K_COUNT; k++) {
        const char *name = key_names[k];
        if ((extra & BIT(k)) != 0u) return bad_arg(res, has_seq, seq, what, "unexpected argument", (const uint8_t *)name, cstrlen(name));
        if ((missing & BIT(k)) != 0u) return bad_arg(res, has_seq, seq, what, "missing argument", (const uint8_t *)name, cstrlen(name));
    }
    for (int k = 0; k < K_COUNT; k++) {
        if ((a->seen & BIT(k)) == 0u) continue;
        vformat_t f = key_formats[k];
        uint32_t v = 0;
        if (fault && k == K_CH) f.min = 0u;
        if (fault && k == K_CODE) f.words = W_FAULT;
        if (!parse_value(&f, b + a->off[k], a->len[k], &v)) {
            const char *name = key_names[k];
            return bad_arg(res, has_seq, seq, what, "bad value of", (const uint8_t *)name, cstrlen(name));
        }
    }
    return EDN_E_NONE;
}

/* The value of key k (already checked by check_args; 0 when absent). */
static uint32_t value_of(const uint8_t *b, const args_t *a, int k)
{
    uint32_t v = 0;
    if ((a->seen & BIT(k)) != 0u) (void)parse_value(&key_formats[k], b + a->off[k], a->len[k], &v);
    return v;
}

static void fill_request(edn_request_t *req, const uint8_t *b, uint16_t seq, uint8_t verb, const args_t *a)
{
    req->seq = seq;
    req->verb = verb;
    req->ch = (uint8_t)value_of(b, a, K_CH);
    req->vmin = (uint8_t)value_of(b, a, K_VMIN);
    req->vmax = (uint8_t)value_of(b, a, K_VMAX);
    req->amp = value_of(b, a, K_AMP);
    edn_program_t *p = &req->program;
    p->ch = req->ch;
    p->mode = (uint8_t)value_of(b, a, K_MODE);
    p->wf = (uint8_t)value_of(b, a, K_WF);
    p->f = value_of(b, a, K_F);
    p->f2 = value_of(b, a, K_F2);
    p->dwell = value_of(b, a, K_DWELL);
    p->n = (uint8_t)value_of(b, a, K_N);
    p->pw = value_of(b, a, K_PW);
    p->amp = req->amp;
    p->dur = value_of(b, a, K_DUR);
    p->ramp = value_of(b, a, K_RAMP);
}

static bool is_seqnum(const uint8_t *s, size_t n, uint16_t *seq)
{
    uint32_t v = 0;
    if (n > 5u || !parse_uint(s, n, 0u, EDN_MAX_SEQ, &v)) return false;
    *seq = (uint16_t)v;
    return true;
}

edn_error_t edn_decode(const uint8_t *line, size_t len, edn_request_t *req, edn_decode_t *res)
{
    args_t a;
    res->code = EDN_E_NONE;
    res->has_seq = 0;
    res->seq = 0;
    res->kind = 0;
    res->name = 0;
    res->msg[0] = '\0';

    /* Step 1: one trailing CR. */
    if (len > 0u && line[len - 1u] == (uint8_t)'\r') len--;
    /* Step 2: length. */
    if (len > EDN_MAX_LINE) return fail(res, EDN_E_TOO_LONG, false, 0, "line is over 256 bytes");
    /* Step 3: bytes. */
    for (size_t i = 0; i < len; i++) {
        if (line[i] < 0x20u || line[i] > 0x7Eu) return fail(res, EDN_E_BAD_FRAME, false, 0, "control or non-ASCII byte");
    }
    /* Step 4: the last " *". */
    size_t mark = len;
    for (size_t i = len; i >= 2u; i--) {
        if (line[i - 2u] == (uint8_t)' ' && line[i - 1u] == (uint8_t)'*') {
            mark = i - 2u;
            break;
        }
    }
    if (mark == len) return fail(res, EDN_E_BAD_FRAME, false, 0, "no CRC");
    /* Step 5: exactly four upper-case hex digits after it. */
    uint32_t crc = 0;
    if (!parse_hex(line + mark + 2u, len - mark - 2u, 4u, &crc)) return fail(res, EDN_E_BAD_FRAME, false, 0, "CRC is not four upper-case hex digits");
    /* Step 6: the CRC of the body. */
    if (edn_crc16(line, mark) != (uint16_t)crc) return fail(res, EDN_E_BAD_CRC, false, 0, "CRC does not match");

    /* Step 7: single spaces, no empty token, at least two tokens. */
    const uint8_t *b = line;
    size_t blen = mark;
    size_t spaces = 0;
    if (blen == 0u || b[0] == (uint8_t)' ' || b[blen - 1u] == (uint8_t)' ') return fail(res, EDN_E_BAD_FRAME, false, 0, "empty token");
    for (size_t i = 1; i < blen; i++) {
        if (b[i] == (uint8_t)' ') {
            spaces++;
            if (b[i - 1u] == (uint8_t)' ') return fail(res, EDN_E_BAD_FRAME, false, 0, "empty token");
        }
    }
    if (spaces == 0u) return fail(res, EDN_E_BAD_FRAME, false, 0, "a frame needs a seq and a verb");

    size_t pos = 0, s1 = 0, l1 = 0, s2 = 0, l2 = 0;
    (void)next_token(b, blen, &pos, &s1, &l1);
    (void)next_token(b, blen, &pos, &s2, &l2);
    /* Step 8: "!" or a seqnum. */
    bool bang = l1 == 1u && b[s1] == (uint8_t)'!';
    uint16_t seq = 0;
    if (!bang && !is_seqnum(b + s1, l1, &seq)) return fail(res, EDN_E_BAD_FRAME, false, 0, "seq is not ! or 0..65535");
    bool has_seq = !bang;
    const uint8_t *w = b + s2;

    edn_error_t e;
    if (mem_is(w, l2, "OK")) {
        /* Step 9a. */
        size_t s3 = 0, l3 = 0;
        if (bang) return fail(res, EDN_E_BAD_FRAME, false, 0, "an OK reply needs a numeric seq");
        if (!next_token(b, blen, &pos, &s3, &l3)) return fail(res, EDN_E_BAD_FRAME, false, 0, "OK must be followed by a verb");
        int v = word_index(b + s3, l3, edn_verb_names, EDN_V_COUNT);
        if (v < 0) {
            edn_text_t m;
            fail(res, EDN_E_UNKNOWN_VERB, true, seq, "");
            edn_text_init(&m, res->msg, sizeof res->msg);
            edn_text_str(&m, "OK answers unknown verb '");
            edn_text_mem(&m, b + s3, l3);
            edn_text_str(&m, "'");
            return EDN_E_UNKNOWN_VERB;
        }
        char what[16];
        edn_text_t wt;
        edn_text_init(&wt, what, sizeof what);
        edn_text_str(&wt, "OK ");
        edn_text_str(&wt, edn_verb_names[v]);
        if ((e = scan_args(b, blen, pos, &a, res, true, seq, what)) != EDN_E_NONE) return e;
        const schema_t *sc = &reply_schemas[v];
        if ((e = check_args(b, &a, sc->allowed, sc->required, false, res, true, seq, what)) != EDN_E_NONE) return e;
        res->kind = EDN_MSG_OK;
        res->name = (uint8_t)v;
        res->seq = seq;
        res->has_seq = 1;
        return EDN_E_NONE;
    }
    if (mem_is(w, l2, "ERR")) {
        /* Step 9b. */
        if ((e = scan_args(b, blen, pos, &a, res, has_seq, seq, "ERR")) != EDN_E_NONE) return e;
        if ((e = check_args(b, &a, err_schema.allowed, err_schema.required, false, res, has_seq, seq, "ERR")) != EDN_E_NONE) return e;
        res->kind = EDN_MSG_ERR;
        res->seq = seq;
        res->has_seq = has_seq ? 1u : 0u;
        return EDN_E_NONE;
    }
    int ev = word_index(w, l2, edn_event_names, EDN_N_COUNT);
    int verb = word_index(w, l2, edn_verb_names, EDN_V_COUNT);
    if (bang) {
        /* Step 9c. */
        if (ev < 0) {
            if (verb >= 0) return fail(res, EDN_E_BAD_FRAME, false, 0, "a request needs a numeric seq");
            edn_text_t m;
            fail(res, EDN_E_UNKNOWN_VERB, false, 0, "");
            edn_text_init(&m, res->msg, sizeof res->msg);
            edn_text_str(&m, "unknown event '");
            edn_text_mem(&m, w, l2);
            edn_text_str(&m, "'");
            return EDN_E_UNKNOWN_VERB;
        }
        const char *what = edn_event_names[ev];
        if ((e = scan_args(b, blen, pos, &a, res, false, 0, what)) != EDN_E_NONE) return e;
        const schema_t *sc = &event_schemas[ev];
        if ((e = check_args(b, &a, sc->allowed, sc->required, ev == EDN_N_FAULT, res, false, 0, what)) != EDN_E_NONE) return e;
        res->kind = EDN_MSG_EVENT;
        res->name = (uint8_t)ev;
        return EDN_E_NONE;
    }
    /* Step 9d. */
    if (verb < 0) {
        if (ev >= 0) return fail(res, EDN_E_BAD_FRAME, false, 0, "an event takes the seq !");
        edn_text_t m;
        fail(res, EDN_E_UNKNOWN_VERB, true, seq, "");
        edn_text_init(&m, res->msg, sizeof res->msg);
        edn_text_str(&m, "unknown verb '");
        edn_text_mem(&m, w, l2);
        edn_text_str(&m, "'");
        return EDN_E_UNKNOWN_VERB;
    }
    const char *what = edn_verb_names[verb];
    /* Steps 10 and 11. */
    if ((e = scan_args(b, blen, pos, &a, res, true, seq, what)) != EDN_E_NONE) return e;
    uint64_t allowed = request_schemas[verb].allowed, required = request_schemas[verb].required;
    if (verb == EDN_V_SET) {
        /* §6.2: a missing or unknown mode is BAD_ARG; then the fields of that mode. */
        uint32_t mode = 0;
        vformat_t f = key_formats[K_MODE];
        if ((a.seen & BIT(K_MODE)) == 0u) return bad_arg(res, true, seq, what, "missing argument", (const uint8_t *)"mode", 4u);
        if (!parse_value(&f, b + a.off[K_MODE], a.len[K_MODE], &mode)) return bad_arg(res, true, seq, what, "bad value of", (const uint8_t *)"mode", 4u);
        allowed = required = set_keys[mode];
    }
    if ((e = check_args(b, &a, allowed, required, false, res, true, seq, what)) != EDN_E_NONE) return e;
    if (verb == EDN_V_HELLO && value_of(b, &a, K_VMIN) > value_of(b, &a, K_VMAX)) {
        return fail(res, EDN_E_BAD_ARG, true, seq, "HELLO: vmin must not exceed vmax");
    }
    res->kind = EDN_MSG_REQUEST;
    res->name = (uint8_t)verb;
    res->seq = seq;
    res->has_seq = 1;
    if (req != NULL) fill_request(req, b, seq, (uint8_t)verb, &a);
    return EDN_E_NONE;
}

edn_error_t edn_decode_request(const uint8_t *line, size_t len, edn_request_t *req, edn_decode_t *res)
{
    edn_error_t e = edn_decode(line, len, req, res);
    if (e == EDN_E_NONE && res->kind != EDN_MSG_REQUEST) {
        return fail(res, EDN_E_BAD_FRAME, false, 0, "a device accepts requests only");
    }
    return e;
}

/* ---- the encoder (§4.3) ------------------------------------------------------------------------ */

static void put(edn_line_t *l, uint8_t c)
{
    if (l->n >= EDN_MAX_LINE) {
        l->overflow = 1;
        return;
    }
    l->b[l->n++] = c;
}

static void put_str(edn_line_t *l, const char *s)
{
    while (*s != '\0') put(l, (uint8_t)*s++);
}

static void put_u32(edn_line_t *l, uint32_t v)
{
    char d[10];
    unsigned n = u32_digits(v, d);
    for (unsigned i = 0; i < n; i++) put(l, (uint8_t)d[i]);
}

static void put_key(edn_line_t *l, const char *key)
{
    put(l, (uint8_t)' ');
    put_str(l, key);
    put(l, (uint8_t)'=');
}

static const char hexdigits[] = "0123456789ABCDEF";

void edn_line_seq(edn_line_t *l, uint16_t seq)
{
    l->n = 0;
    l->overflow = 0;
    put_u32(l, seq);
}

void edn_line_bang(edn_line_t *l)
{
    l->n = 0;
    l->overflow = 0;
    put(l, (uint8_t)'!');
}

void edn_line_word(edn_line_t *l, const char *word)
{
    put(l, (uint8_t)' ');
    put_str(l, word);
}

void edn_line_u32(edn_line_t *l, const char *key, uint32_t v)
{
    put_key(l, key);
    put_u32(l, v);
}

void edn_line_str(edn_line_t *l, const char *key, const char *v)
{
    put_key(l, key);
    put_str(l, v);
}

void edn_line_hex(edn_line_t *l, const char *key, uint32_t v, unsigned digits)
{
    put_key(l, key);
    for (unsigned i = digits; i > 0u; i--) put(l, (uint8_t)hexdigits[(v >> ((i - 1u) * 4u)) & 0xFu]);
}

void edn_line_ohm(edn_line_t *l, const char *key, uint32_t z)
{
    if (z == EDN_Z_OPEN) {
        edn_line_str(l, key, "OPEN");
    } else {
        edn_line_u32(l, key, z > 9999999u ? 9999999u : z);
    }
}

void edn_line_text(edn_line_t *l, const char *key, const char *plain)
{
    /* §5: take characters while the text stays within 48 characters and 64 on the wire. */
    size_t chars = 0, wire = 0;
    for (const char *p = plain; *p != '\0'; p++) {
        uint8_t c = (uint8_t)*p;
        if (c < 0x20u || c > 0x7Eu) c = (uint8_t)'?';
        size_t cost = is_unreserved(c) ? 1u : 3u;
        if (chars + 1u > EDN_MAX_MSG_TEXT || wire + cost > EDN_MAX_VALUE) break;
        chars++;
        wire += cost;
    }
    if (chars == 0u) return;
    put_key(l, key);
    for (size_t i = 0; i < chars; i++) {
        uint8_t c = (uint8_t)plain[i];
        if (c < 0x20u || c > 0x7Eu) c = (uint8_t)'?';
        if (is_unreserved(c)) {
            put(l, c);
        } else {
            put(l, (uint8_t)'%');
            put(l, (uint8_t)hexdigits[c >> 4]);
            put(l, (uint8_t)hexdigits[c & 0xFu]);
        }
    }
}

size_t edn_line_end(edn_line_t *l)
{
    uint16_t crc = edn_crc16(l->b, l->n);
    put(l, (uint8_t)' ');
    put(l, (uint8_t)'*');
    for (unsigned i = 4u; i > 0u; i--) put(l, (uint8_t)hexdigits[(crc >> ((i - 1u) * 4u)) & 0xFu]);
    if (l->overflow) return 0; /* §2.2: a line over 256 bytes is never sent */
    l->b[l->n] = (uint8_t)'\n';
    return (size_t)l->n + 1u;
}

/* §6.2 read-back CRC: the canonical SET argument text of the stored program, built in `scratch`. */
uint16_t edn_program_crc(const edn_program_t *p, edn_line_t *scratch)
{
    edn_line_t *l = scratch;
    l->n = 0;
    l->overflow = 0;
    /* The argument text without its leading space: build " ch=.." and skip byte 0. */
    edn_line_u32(l, "ch", p->ch);
    edn_line_str(l, "mode", edn_mode_names[p->mode]);
    edn_line_u32(l, "f", p->f);
    if (p->mode != EDN_MODE_CONT) edn_line_u32(l, "f2", p->f2);
    if (p->mode == EDN_MODE_DD) edn_line_u32(l, "dwell", p->dwell);
    if (p->mode == EDN_MODE_BURST) edn_line_u32(l, "n", p->n);
    edn_line_u32(l, "pw", p->pw);
    edn_line_str(l, "wf", edn_wf_names[p->wf]);
    edn_line_u32(l, "amp", p->amp);
    edn_line_u32(l, "dur", p->dur);
    edn_line_u32(l, "ramp", p->ramp);
    return edn_crc16(l->b + 1, (size_t)l->n - 1u);
}

/* ---- messages (§6 replies, §7 events) ----------------------------------------------------------- */

static void ok_head(edn_line_t *l, uint16_t seq, uint8_t verb)
{
    edn_line_seq(l, seq);
    edn_line_word(l, "OK");
    edn_line_word(l, edn_verb_names[verb]);
}

void edn_enc_ok_hello(edn_line_t *l, uint16_t seq, uint8_t proto, const edn_identity_t *id, uint32_t boot,
                      uint8_t channels, const edn_limits_t *lim)
{
    ok_head(l, seq, EDN_V_HELLO);
    edn_line_u32(l, "proto", proto);
    edn_line_str(l, "model", id->model);
    edn_line_str(l, "fw", id->fw);
    edn_line_str(l, "sn", id->sn);
    edn_line_hex(l, "boot", boot, 8u);
    edn_line_u32(l, "ch", channels);
    edn_line_u32(l, "fmin", lim->fmin);
    edn_line_u32(l, "fmax", lim->fmax);
    edn_line_u32(l, "pwmin", lim->pwmin);
    edn_line_u32(l, "pwmax", lim->pwmax);
    edn_line_u32(l, "amin", lim->amin);
    edn_line_u32(l, "amax", lim->amax);
    edn_line_u32(l, "qmax", lim->qmax);
    edn_line_u32(l, "tmax", lim->tmax);
    edn_line_u32(l, "vc", lim->vc);
    edn_line_u32(l, "wdog", lim->wdog);
}

void edn_enc_ok_ch(edn_line_t *l, uint16_t seq, uint8_t verb, uint8_t ch)
{
    ok_head(l, seq, verb);
    if (ch != 0u) edn_line_u32(l, "ch", ch);
}

void edn_enc_ok_set(edn_line_t *l, uint16_t seq, uint8_t ch, uint16_t crc)
{
    ok_head(l, seq, EDN_V_SET);
    edn_line_u32(l, "ch", ch);
    edn_line_hex(l, "crc", crc, 4u);
}

void edn_enc_ok_amp(edn_line_t *l, uint16_t seq, uint8_t ch, uint32_t amp)
{
    ok_head(l, seq, EDN_V_AMP);
    edn_line_u32(l, "ch", ch);
    edn_line_u32(l, "amp", amp);
}

void edn_enc_ok_latched(edn_line_t *l, uint16_t seq, uint8_t verb, bool latched)
{
    ok_head(l, seq, verb);
    edn_line_u32(l, "latched", latched ? 1u : 0u);
}

void edn_enc_ok_hb(edn_line_t *l, uint16_t seq) { ok_head(l, seq, EDN_V_HB); }

void edn_enc_ok_status(edn_line_t *l, uint16_t seq, uint32_t boot, bool latched, uint32_t up, uint8_t channels,
                       const uint8_t *states)
{
    static const char *const s_keys[EDN_WIRE_MAX_CHANNELS] = {"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"};
    ok_head(l, seq, EDN_V_STATUS);
    edn_line_hex(l, "boot", boot, 8u);
    edn_line_u32(l, "latched", latched ? 1u : 0u);
    edn_line_u32(l, "up", up);
    for (unsigned i = 0; i < channels && i < EDN_WIRE_MAX_CHANNELS; i++) edn_line_str(l, s_keys[i], edn_ch_state_names[states[i] & 3u]);
}

void edn_enc_ok_imp(edn_line_t *l, uint16_t seq, uint8_t ch, uint32_t z)
{
    ok_head(l, seq, EDN_V_IMP);
    edn_line_u32(l, "ch", ch);
    edn_line_ohm(l, "z", z);
}

void edn_enc_err(edn_line_t *l, bool has_seq, uint16_t seq, uint8_t code, const char *msg)
{
    if (has_seq) edn_line_seq(l, seq);
    else edn_line_bang(l);
    edn_line_word(l, "ERR");
    edn_line_str(l, "code", edn_error_names[code < EDN_E_COUNT ? code : EDN_E_INTERNAL]);
    if (msg != NULL) edn_line_text(l, "msg", msg);
}

void edn_enc_tel(edn_line_t *l, uint8_t ch, uint32_t amp, uint32_t i, uint32_t z, uint32_t q)
{
    edn_line_bang(l);
    edn_line_word(l, "TEL");
    edn_line_u32(l, "ch", ch);
    edn_line_u32(l, "amp", amp);
    edn_line_u32(l, "i", i);
    edn_line_ohm(l, "z", z);
    edn_line_u32(l, "q", q);
}

void edn_enc_done(edn_line_t *l, uint8_t ch)
{
    edn_line_bang(l);
    edn_line_word(l, "DONE");
    edn_line_u32(l, "ch", ch);
}

void edn_enc_fault(edn_line_t *l, uint8_t ch, uint8_t fault)
{
    edn_line_bang(l);
    edn_line_word(l, "FAULT");
    edn_line_u32(l, "ch", ch);
    edn_line_str(l, "code", edn_fault_names[fault & 3u]);
}

void edn_enc_wdog(edn_line_t *l)
{
    edn_line_bang(l);
    edn_line_word(l, "WDOG");
}

void edn_enc_boot(edn_line_t *l, uint8_t proto, uint32_t boot)
{
    edn_line_bang(l);
    edn_line_word(l, "BOOT");
    edn_line_u32(l, "proto", proto);
    edn_line_hex(l, "boot", boot, 8u);
}
