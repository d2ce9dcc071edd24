/*
 * The registers this port uses on the MPS2 AN385 (Cortex-M3) as QEMU's `-M mps2-an385` models
 * it: the CMSDK APB UARTs, SysTick, the NVIC and the System Control Block. Register-level, no
 * vendor headers (ARM DDI 0479 CMSDK; ARMv7-M Architecture Reference Manual).
 */
#ifndef EDN_MPS2_H
#define EDN_MPS2_H

#include <stdint.h>

/* The AN385 runs its CPU, SysTick and APB at 25 MHz. */
#define MPS2_SYSCLK_HZ 25000000u

/* CMSDK APB UART (DDI 0479 §4.3). */
typedef struct {
    volatile uint32_t DATA;
    volatile uint32_t STATE;   /* bit 0 TX buffer full, bit 1 RX buffer full */
    volatile uint32_t CTRL;    /* bit 0 TX enable, 1 RX enable, 2 TX irq enable, 3 RX irq enable */
    volatile uint32_t INT;     /* read: status; write 1: clear. bit 0 TX, bit 1 RX */
    volatile uint32_t BAUDDIV; /* >= 16 */
} cmsdk_uart_regs_t;

#define CMSDK_UART0 ((cmsdk_uart_regs_t *)0x40004000u)
#define CMSDK_UART1 ((cmsdk_uart_regs_t *)0x40005000u)
#define UART_STATE_TXFULL 1u
#define UART_STATE_RXFULL 2u
#define UART_CTRL_TXEN 1u
#define UART_CTRL_RXEN 2u
#define UART_CTRL_TXIRQ 4u
#define UART_CTRL_RXIRQ 8u
#define UART_INT_TX 1u
#define UART_INT_RX 2u

/* AN385 interrupt numbers: UART0 RX 0, TX 1; UART1 RX 2, TX 3. */
#define IRQ_UART0_RX 0u
#define IRQ_UART0_TX 1u
#define IRQ_UART1_RX 2u
#define IRQ_UART1_TX 3u

/* CMSDK APB timer 0 (DDI 0479 §4.4): a 32-bit down counter at the APB clock. */
typedef struct {
    volatile uint32_t CTRL; /* bit 0 enable, bit 3 interrupt enable */
    volatile uint32_t VALUE;
    volatile uint32_t RELOAD;
    volatile uint32_t INT;
} cmsdk_timer_regs_t;
#define CMSDK_TIMER0 ((cmsdk_timer_regs_t *)0x40000000u)

/* SysTick (ARMv7-M B3.3). */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_CSR_ENABLE 1u
#define SYST_CSR_TICKINT 2u
#define SYST_CSR_CLKSOURCE 4u /* the processor clock */

/* NVIC and SCB (ARMv7-M B3.4, B3.2). */
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define SCB_AIRCR (*(volatile uint32_t *)0xE000ED0Cu)
#define SCB_AIRCR_RESET (0x05FA0000u | 4u) /* VECTKEY | SYSRESETREQ */

/* The exception handlers (startup.c's vector table; main.c defines them). */
void SysTick_Handler(void);
void UART0_RX_Handler(void);
void UART0_TX_Handler(void);
void UART1_RX_Handler(void);
void UART1_TX_Handler(void);

static inline void irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }

#endif
