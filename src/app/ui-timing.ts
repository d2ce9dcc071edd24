/**
 * How long the host waits for a user interface before it stops output: one place, with the
 * reasoning (SAFETY.md, "Limits and timing constants", quotes these). They are safety numbers: the
 * UI is the clinician's Emergency stop button, so a UI that cannot be reached, or cannot act,
 * while output is on must end in an e-stop, not in current running on unseen.
 *
 * Used by SessionControl (control.ts), the one place that applies them, under the browser host
 * (src/web) and the Electron shell (electron/main) alike.
 */

/**
 * How often the host asks the controlling UI for a sign of life: 500 ms. The host sends a `ping`
 * event and the page's own code answers it with the `heartbeat` call. The host asks (rather than
 * the page sending on its own timer) because a browser throttles the timers of a hidden tab (to
 * once a second, and to once a minute after five minutes hidden), while a message arriving on a
 * WebSocket or over IPC is handled at once by a page that lives. Twice a second keeps the answer
 * well inside UI_LIVENESS_MS even in a hidden tab.
 */
export const UI_PING_MS = 500;

/**
 * A controlling UI that has given no sign of life (an answer to a ping, or any call) for 3000 ms
 * while output may be on is frozen: the host e-stops the session (source `ui-unresponsive`).
 *
 * Why a sign of life from the page's own code: WebSocket ping/pong is answered by the browser's
 * network stack, so a page whose JavaScript is stopped (SIGSTOP, a debugger pause, a runaway
 * script, a hung renderer) still pongs; Electron's 'unresponsive' event comes only after Chromium's
 * hung-renderer delay (about 15 s) and only when someone tries to use the window.
 *
 * Why 3000 ms: six pings, so a page that is merely busy (garbage collection, a long layout, a
 * report rendering, a hidden tab's one-second timer clamp) is not stopped, and short enough that a
 * frozen screen stops the current before a clinician would have found the stimulator's own switch.
 * It is of the same order as GRACE_MS (a UI that went away altogether): a UI that cannot act is
 * treated like a UI that is gone, a little later because it may be only slow.
 */
export const UI_LIVENESS_MS = 3000;

/**
 * How long a UI that went away (its WebSocket closed: a closed tab, a crashed renderer, a lost
 * connection) has to come back before a session with output on is e-stopped (source
 * `connection-lost`): 2000 ms. A page reload reconnects well within it (about 0.3 s here) and
 * resumes control; a clinician whose screen went blank expects the stimulation to stop.
 */
export const GRACE_MS = 2000;

// Checked at load: a live page answers several pings inside the liveness window.
if (UI_LIVENESS_MS < 4 * UI_PING_MS || GRACE_MS > UI_LIVENESS_MS) {
  throw new Error('UI timing constants are inconsistent: the liveness window must hold several pings and be no shorter than the grace period');
}
