/*
 * PROTOCOL.md §2.2 and §2.3: the capped line receiver. Bytes in, whole lines out; it never holds
 * more than 256 bytes plus a tolerated CR, so a stream of any length without LF (a 10 MB flood)
 * costs this buffer and nothing more.
 */
#ifndef EDN_RX_H
#define EDN_RX_H

#include <stddef.h>
#include <stdint.h>

#include "edn_config.h"

typedef struct {
    uint8_t buf[EDN_RX_BUF];
    uint16_t len;
    /* The line grew past the cap: its bytes are discarded up to the next LF. */
    uint8_t overflow;
} edn_rx_t;

typedef enum {
    EDN_RX_NONE = 0, /* nothing complete yet (or an empty line, ignored silently: §2.3) */
    EDN_RX_LINE,     /* a line: *line / *len, without LF; a final CR is still there (§4.4 step 1) */
    EDN_RX_TOO_LONG, /* an over-long line ended: *line / *len are its first 256 bytes, for the log */
} edn_rx_result_t;

void edn_rx_reset(edn_rx_t *rx);

/* Feed one byte. The returned line stays valid until the next call. */
edn_rx_result_t edn_rx_byte(edn_rx_t *rx, uint8_t b, const uint8_t **line, size_t *len);

#endif
