/*
 * PROTOCOL.md §4 and §5: the frame decoder (the §4.4 procedure, every step and its error code)
 * and the encoder (canonical key order, §4.3; percent-encoded text, §5; the CRC, §3).
 *
 * The decoder accepts every message of the protocol (requests, OK and ERR replies, events) and
 * only then applies the direction rule of §4.4: a device accepts requests only. A line of the wrong
 * direction is therefore decoded as what it is through step 11 first, so `7 OK HB x=1` is
 * BAD_ARG with seq 7 and `! TEL` is BAD_ARG without seq, exactly as the TypeScript codec does
 * (PROTOCOL.md §4.4, "Direction"). No heap, no recursion; every buffer is the caller's.
 */
#ifndef EDN_CODEC_H
#define EDN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edn_config.h"
#include "edn_limits.h"
#include "edn_types.h"

extern const char *const edn_error_names[EDN_E_COUNT];
extern const char *const edn_verb_names[EDN_V_COUNT];
extern const char *const edn_event_names[EDN_N_COUNT];
extern const char *const edn_mode_names[3];
extern const char *const edn_wf_names[2];
extern const char *const edn_ch_state_names[4];
extern const char *const edn_fault_names[4];

/* A decoded request (§6). ch is 0 for a STOP without ch. */
typedef struct {
    uint16_t seq;
    uint8_t verb; /* edn_verb_t */
    uint8_t ch;
    uint8_t vmin, vmax;
    uint32_t amp;
    edn_program_t program;
} edn_request_t;

/* What was decoded, or why not. */
typedef enum { EDN_MSG_REQUEST = 0, EDN_MSG_OK, EDN_MSG_ERR, EDN_MSG_EVENT } edn_msg_kind_t;

typedef struct {
    uint8_t code;    /* edn_error_t: EDN_E_NONE when the line decoded */
    uint8_t has_seq; /* the seq is trusted (§4.4: UNKNOWN_VERB and BAD_ARG only) */
    uint16_t seq;
    uint8_t kind;    /* edn_msg_kind_t, when decoded */
    uint8_t name;    /* verb (requests, OK) or event name, when decoded */
    char msg[EDN_MAX_MSG_TEXT + 1]; /* what was wrong, for the ERR msg and the log (may be "") */
} edn_decode_t;

/* §4.4 steps 1..11 on one line (without LF; a final CR is removed), any direction. Fills `req`
 * (may be NULL) when the line is a request. Returns res->code. */
edn_error_t edn_decode(const uint8_t *line, size_t len, edn_request_t *req, edn_decode_t *res);

/* A device's decoder: as edn_decode, then a valid OK, ERR or event line is BAD_FRAME without seq
 * (§4.4 "Direction"). */
edn_error_t edn_decode_request(const uint8_t *line, size_t len, edn_request_t *req, edn_decode_t *res);

/* ---- encoding ------------------------------------------------------------------------------ */

/* A line being built: at most 256 bytes, then " *XXXX" is inside that and LF is added. */
typedef struct {
    uint8_t b[EDN_MAX_LINE + 1u];
    uint16_t n;
    uint8_t overflow; /* something did not fit: edn_line_end() refuses the line */
} edn_line_t;

void edn_line_seq(edn_line_t *l, uint16_t seq); /* starts "<seq>" */
void edn_line_bang(edn_line_t *l);              /* starts "!" */
void edn_line_word(edn_line_t *l, const char *word);
void edn_line_u32(edn_line_t *l, const char *key, uint32_t v);
void edn_line_str(edn_line_t *l, const char *key, const char *v);
void edn_line_hex(edn_line_t *l, const char *key, uint32_t v, unsigned digits);
void edn_line_ohm(edn_line_t *l, const char *key, uint32_t z);
/* §5 text: percent-encoded, shortened to 48 characters and 64 on the wire (the device MUST
 * shorten, §5); an empty result omits the key. */
void edn_line_text(edn_line_t *l, const char *key, const char *plain);
/* Appends " *CRC" and LF; returns the length with LF, or 0 when the line did not fit (§2.2:
 * never sent; by the §13 budget it cannot happen for the lines this firmware builds). */
size_t edn_line_end(edn_line_t *l);

/* §6.2 read-back CRC: CRC-16 of the canonical argument text of `p`, built in `scratch` (whose
 * contents are then overwritten). */
uint16_t edn_program_crc(const edn_program_t *p, edn_line_t *scratch);

/* The messages a device sends, each in canonical key order (§4.3, §6, §7). */
typedef struct {
    const char *model, *fw, *sn;
} edn_identity_t;

void edn_enc_ok_hello(edn_line_t *l, uint16_t seq, uint8_t proto, const edn_identity_t *id, uint32_t boot,
                      uint8_t channels, const edn_limits_t *lim);
void edn_enc_ok_ch(edn_line_t *l, uint16_t seq, uint8_t verb, uint8_t ch); /* START, STOP (ch 0: none) */
void edn_enc_ok_set(edn_line_t *l, uint16_t seq, uint8_t ch, uint16_t crc);
void edn_enc_ok_amp(edn_line_t *l, uint16_t seq, uint8_t ch, uint32_t amp);
void edn_enc_ok_latched(edn_line_t *l, uint16_t seq, uint8_t verb, bool latched); /* ESTOP, CLEAR */
void edn_enc_ok_hb(edn_line_t *l, uint16_t seq);
void edn_enc_ok_status(edn_line_t *l, uint16_t seq, uint32_t boot, bool latched, uint32_t up, uint8_t channels,
                       const uint8_t *states);
void edn_enc_ok_imp(edn_line_t *l, uint16_t seq, uint8_t ch, uint32_t z);
/* has_seq false: "! ERR". msg may be NULL. */
void edn_enc_err(edn_line_t *l, bool has_seq, uint16_t seq, uint8_t code, const char *msg);
void edn_enc_tel(edn_line_t *l, uint8_t ch, uint32_t amp, uint32_t i, uint32_t z, uint32_t q);
void edn_enc_done(edn_line_t *l, uint8_t ch);
void edn_enc_fault(edn_line_t *l, uint8_t ch, uint8_t fault);
void edn_enc_wdog(edn_line_t *l);
void edn_enc_boot(edn_line_t *l, uint8_t proto, uint32_t boot);

/* Small text helpers the device uses for its msg texts (bounded; always NUL-terminated). */
typedef struct {
    char *s;
    size_t n, cap; /* cap includes the NUL */
} edn_text_t;
void edn_text_init(edn_text_t *t, char *buf, size_t cap);
void edn_text_str(edn_text_t *t, const char *s);
void edn_text_mem(edn_text_t *t, const uint8_t *s, size_t n);
void edn_text_u32(edn_text_t *t, uint32_t v);

#endif
