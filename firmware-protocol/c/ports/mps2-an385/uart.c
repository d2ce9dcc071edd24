/* See uart.h. */
#include "uart.h"

void uart_init(uart_t *u, uint32_t baud, unsigned irq_rx, unsigned irq_tx)
{
    u->rx_head = u->rx_tail = u->tx_head = u->tx_tail = 0;
    u->rx_overruns = 0;
    u->regs->BAUDDIV = MPS2_SYSCLK_HZ / baud; /* 217 at 115200 */
    u->regs->INT = UART_INT_TX | UART_INT_RX;
    u->regs->CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_TXIRQ | UART_CTRL_RXIRQ;
    NVIC_ISER0 = (1u << irq_rx) | (1u << irq_tx);
}

void uart_rx_isr(uart_t *u)
{
    /* Clear first, then drain: a byte that arrives after the last STATE read raises the interrupt
     * again (clearing after the loop could swallow that byte's interrupt and stall the receiver). */
    u->regs->INT = UART_INT_RX;
    while ((u->regs->STATE & UART_STATE_RXFULL) != 0u) {
        uint8_t b = (uint8_t)u->regs->DATA;
        uint16_t next = (uint16_t)((u->rx_head + 1u) & (u->rx_size - 1u));
        if (next == u->rx_tail) {
            u->rx_overruns++;
        } else {
            u->rx[u->rx_head] = b;
            u->rx_head = next;
        }
    }
}

/* Move one byte from the ring to the UART if it can take one (interrupts masked or in the ISR). */
static void tx_next(uart_t *u)
{
    if (u->tx_tail != u->tx_head && (u->regs->STATE & UART_STATE_TXFULL) == 0u) {
        u->regs->DATA = u->tx[u->tx_tail];
        u->tx_tail = (uint16_t)((u->tx_tail + 1u) & (u->tx_size - 1u));
    }
}

void uart_tx_isr(uart_t *u)
{
    u->regs->INT = UART_INT_TX;
    tx_next(u);
}

void uart_write(uart_t *u, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint16_t next = (uint16_t)((u->tx_head + 1u) & (u->tx_size - 1u));
        while (next == u->tx_tail) { /* full: let the interrupt drain it */
            irq_disable();
            tx_next(u);
            irq_enable();
        }
        u->tx[u->tx_head] = data[i];
        u->tx_head = next;
    }
    /* Start the transmitter if it is idle (no TX interrupt is coming then). */
    irq_disable();
    tx_next(u);
    irq_enable();
}

size_t uart_read(uart_t *u, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (n < cap && u->rx_tail != u->rx_head) {
        out[n++] = u->rx[u->rx_tail];
        u->rx_tail = (uint16_t)((u->rx_tail + 1u) & (u->rx_size - 1u));
    }
    return n;
}

int uart_rx_pending(const uart_t *u) { return u->rx_tail != u->rx_head; }

void uart_flush(uart_t *u)
{
    while (u->tx_tail != u->tx_head) {
        irq_disable();
        tx_next(u);
        irq_enable();
    }
    while ((u->regs->STATE & UART_STATE_TXFULL) != 0u) {
    }
}
