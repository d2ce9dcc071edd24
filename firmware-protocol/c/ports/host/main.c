/*
 * The host port: the firmware as a POSIX process. The UART is a file descriptor (a socket, pipe
 * or tty; default 3, which `edn simulate --firmware host` connects to the device end of its
 * pseudo-terminal pair); the events are the simulator's --json lines on stdout; control commands
 * (board.h) come on stdin, one per line. Time is CLOCK_MONOTONIC in ms; the device is polled
 * every millisecond and whenever bytes arrive.
 *
 *     edn-fw-host [--uart-fd N] [--channels N] [--seed N] [--qmax NC] [--load OHMS]
 *
 * Exits 0 on SIGTERM / SIGINT or when the UART is closed at the other end (outputs off first).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "hal.h"

static int uart_fd = 3;
static volatile sig_atomic_t stopping = 0;
static struct timespec t0;
static edn_device_t device;

static uint32_t now_ms(void)
{
    struct timespec t;
    (void)clock_gettime(CLOCK_MONOTONIC, &t);
    long long ms = (long long)(t.tv_sec - t0.tv_sec) * 1000LL + (t.tv_nsec - t0.tv_nsec) / 1000000L;
    return (uint32_t)ms;
}

static void uart_write(const uint8_t *data, size_t len)
{
    while (len > 0u) {
        ssize_t n = write(uart_fd, data, len);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = {uart_fd, POLLOUT, 0};
            (void)poll(&p, 1, 10);
        } else {
            return; /* the other end is gone: the main loop sees it and exits */
        }
    }
}

static void emit(const char *json)
{
    (void)fputs(json, stdout);
    (void)fputc('\n', stdout);
    (void)fflush(stdout);
}

static uint32_t random32(void)
{
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) v = (uint32_t)now_ms() * 2654435761u ^ (uint32_t)getpid();
    return v;
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void error_event(const char *message)
{
    (void)printf("{\"event\":\"error\",\"message\":\"");
    for (const char *p = message; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') (void)putchar('\\');
        if ((unsigned char)*p >= 0x20u) (void)putchar(*p);
    }
    (void)printf("\"}\n");
    (void)fflush(stdout);
}

int main(int argc, char **argv)
{
    char err[160];
    board_options_t o;
    /* --uart-fd is this program's own; the rest are the board's (board.h). */
    char *rest[32];
    int nrest = 0;
    rest[nrest++] = argv[0];
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--uart-fd") == 0 && k + 1 < argc) uart_fd = atoi(argv[++k]);
        else if (nrest < 31) rest[nrest++] = argv[k];
    }
    rest[nrest] = NULL;
    int i = board_parse_options(nrest, rest, &o, err, sizeof err);
    if (i < 0) {
        (void)fprintf(stderr, "edn-fw-host: %s\n", err);
        return 2;
    }
    if (i < nrest) {
        (void)fprintf(stderr, "edn-fw-host: unknown argument '%s'\nusage: edn-fw-host [--uart-fd N] [--channels N] [--seed N] [--qmax NC] [--load OHMS]\n", rest[i]);
        return 2;
    }
    if (fcntl(uart_fd, F_GETFD) < 0) {
        (void)fprintf(stderr, "edn-fw-host: the UART file descriptor %d is not open\n", uart_fd);
        return 2;
    }
    (void)fcntl(uart_fd, F_SETFL, fcntl(uart_fd, F_GETFL) | O_NONBLOCK);
    (void)fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);

    static const board_io_t io = {now_ms, uart_write, emit, random32};
    if (board_start(&io, &o, "EDN-FW-HOST", "FW-", &device, err, sizeof err) != 0) {
        (void)fprintf(stderr, "edn-fw-host: %s\n", err);
        return 2;
    }

    char control[512];
    size_t control_len = 0;
    bool stdin_open = true;
    uint8_t buf[4096];
    while (!stopping) {
        struct pollfd fds[2] = {{uart_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        int r = poll(fds, stdin_open ? 2 : 1, 1);
        edn_poll(&device);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            ssize_t n = read(uart_fd, buf, sizeof buf);
            if (n > 0) {
                edn_rx(&device, buf, (size_t)n);
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                break; /* the UART was closed at the other end */
            }
        }
        if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                stdin_open = false; /* end of stdin does not stop the device */
                continue;
            }
            for (ssize_t k = 0; k < n; k++) {
                char c = (char)buf[k];
                if (c != '\n') {
                    if (control_len + 1u < sizeof control) control[control_len++] = c;
                    continue;
                }
                control[control_len] = '\0';
                control_len = 0;
                if (control[0] == '\0') continue;
                if (board_control(&device, control, err, sizeof err) != 0) error_event(err);
            }
        }
    }
    edn_hal_output_all_off();
    return 0;
}
