/*
 * libFuzzer target: the capped receiver (PROTOCOL.md §2.2) and the decoder (§4.4) on any bytes.
 * Beyond the sanitizers (ASan, UBSan: no overflow, no out-of-bounds access, no undefined
 * behaviour), it checks the decoder's own promises on every line, aborting on a broken one:
 * - the receiver never hands out more than 256 bytes plus a CR, and never an empty line;
 * - only UNKNOWN_VERB and BAD_ARG carry a trusted seq (§4.4), and TOO_LONG never reaches it;
 * - a decoded request's values are inside their format ranges (§6) and the msg is terminated;
 * - the device-direction decoder differs from the generic one only by refusing non-requests.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/edn_codec.h"
#include "core/edn_rx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok) abort();
}

static void check_request(const edn_request_t *r)
{
    check(r->verb < EDN_V_COUNT);
    switch (r->verb) {
    case EDN_V_HELLO: check(r->vmin >= 1u && r->vmin <= r->vmax); break;
    case EDN_V_SET: {
        const edn_program_t *p = &r->program;
        check(p->ch >= 1u && p->ch <= 8u && p->mode <= EDN_MODE_BURST && p->wf <= EDN_WF_ASYM);
        check(p->f >= 1u && p->f <= 1000000u && p->pw >= 1u && p->pw <= 10000u && p->amp <= 100000u);
        check(p->dur >= 1u && p->dur <= 86400u && p->ramp >= 1u && p->ramp <= 100000u);
        if (p->mode != EDN_MODE_CONT) check(p->f2 >= 1u && p->f2 <= 1000000u);
        if (p->mode == EDN_MODE_DD) check(p->dwell >= 100u && p->dwell <= 60000u);
        if (p->mode == EDN_MODE_BURST) check(p->n >= 1u && p->n <= 100u);
        break;
    }
    case EDN_V_START:
    case EDN_V_IMP: check(r->ch >= 1u && r->ch <= 8u); break;
    case EDN_V_AMP: check(r->ch >= 1u && r->ch <= 8u && r->amp <= 100000u); break;
    case EDN_V_STOP: check(r->ch <= 8u); break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edn_rx_t rx;
    edn_rx_reset(&rx);
    for (size_t i = 0; i < size; i++) {
        const uint8_t *line = NULL;
        size_t len = 0;
        edn_rx_result_t r = edn_rx_byte(&rx, data[i], &line, &len);
        check(rx.len <= EDN_RX_BUF);
        if (r == EDN_RX_NONE) continue;
        check(len <= EDN_RX_BUF && len > 0u);
        if (r == EDN_RX_TOO_LONG) continue;
        edn_request_t a, b;
        edn_decode_t ra, rb;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        edn_error_t any = edn_decode(line, len, &a, &ra);
        edn_error_t dev = edn_decode_request(line, len, &b, &rb);
        check(memchr(ra.msg, '\0', sizeof ra.msg) != NULL && memchr(rb.msg, '\0', sizeof rb.msg) != NULL);
        check(any != EDN_E_TOO_LONG);
        if (ra.has_seq && any != EDN_E_NONE) check(any == EDN_E_UNKNOWN_VERB || any == EDN_E_BAD_ARG);
        if (rb.has_seq && dev != EDN_E_NONE) check(dev == EDN_E_UNKNOWN_VERB || dev == EDN_E_BAD_ARG);
        if (any == EDN_E_NONE && ra.kind == EDN_MSG_REQUEST) {
            check(dev == EDN_E_NONE && memcmp(&a, &b, sizeof a) == 0 && a.seq == ra.seq);
            check_request(&a);
        } else if (any == EDN_E_NONE) {
            check(dev == EDN_E_BAD_FRAME && !rb.has_seq);
        } else {
            check(dev == any && rb.has_seq == ra.has_seq && rb.seq == ra.seq);
        }
    }
    return 0;
}
