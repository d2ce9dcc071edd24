/*
 * PROTOCOL.md §2.2: the spec's reference receiver, with one change that the spec allows ("either
 * when the overflow is detected or when the terminating LF arrives; both are conforming"): the
 * over-long line is reported once, at its LF, and the bytes already buffered are kept (not
 * appended to) so that the report can show the line's head. A 257-byte line whose last byte is
 * not CR fits the buffer but is over the limit: it is reported here too (§2.2 last paragraph), so
 * the decoder never sees a line longer than 256 bytes plus CR.
 */
#include "edn_rx.h"

void edn_rx_reset(edn_rx_t *rx)
{
    rx->len = 0;
    rx->overflow = 0;
}

edn_rx_result_t edn_rx_byte(edn_rx_t *rx, uint8_t b, const uint8_t **line, size_t *len)
{
    if (b == (uint8_t)'\n') {
        edn_rx_result_t r = EDN_RX_NONE;
        size_t n = rx->len;
        *line = rx->buf;
        if (rx->overflow || (n == EDN_RX_BUF && rx->buf[n - 1u] != (uint8_t)'\r')) {
            r = EDN_RX_TOO_LONG;
            *len = EDN_MAX_LINE;
        } else {
            size_t content = (n > 0u && rx->buf[n - 1u] == (uint8_t)'\r') ? n - 1u : n;
            if (content > 0u) { /* §2.3: empty lines are ignored */
                r = EDN_RX_LINE;
                *len = n;
            }
        }
        rx->len = 0;
        rx->overflow = 0;
        return r;
    }
    if (rx->overflow) return EDN_RX_NONE; /* discard up to the next LF */
    if (rx->len == EDN_RX_BUF) {
        rx->overflow = 1; /* never buffer more; the head stays for the report */
        return EDN_RX_NONE;
    }
    rx->buf[rx->len++] = b;
    return EDN_RX_NONE;
}
