/*
 * An interrupt-driven CMSDK UART with a receive and a transmit ring (single producer, single
 * consumer each: the interrupt and the main loop never write the same index).
 */
#ifndef EDN_MPS2_UART_H
#define EDN_MPS2_UART_H

#include <stddef.h>
#include <stdint.h>

#include "mps2.h"

typedef struct {
    cmsdk_uart_regs_t *regs;
    uint8_t *rx;
    uint8_t *tx;
    uint16_t rx_size, tx_size; /* powers of two */
    volatile uint16_t rx_head, rx_tail, tx_head, tx_tail;
    volatile uint32_t rx_overruns; /* bytes lost because the main loop fell behind */
} uart_t;

void uart_init(uart_t *u, uint32_t baud, unsigned irq_rx, unsigned irq_tx);
/* Queue bytes; waits (the TX interrupt drains the ring) only while the ring is full. */
void uart_write(uart_t *u, const uint8_t *data, size_t len);
/* Wait until every queued byte has left the transmitter. */
void uart_flush(uart_t *u);
/* Take up to `cap` received bytes; returns how many. */
size_t uart_read(uart_t *u, uint8_t *out, size_t cap);
int uart_rx_pending(const uart_t *u);
/* The interrupt handlers' bodies. */
void uart_rx_isr(uart_t *u);
void uart_tx_isr(uart_t *u);

#endif
