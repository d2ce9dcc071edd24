/**
 * The device's receive line assembly: bytes in any chunking become lines, with a hard cap. A line
 * longer than the cap is reported once, the moment it overflows, and its bytes are discarded up to
 * the next `\n`; the buffer never holds more than `cap` bytes, so 10 MB without a newline costs
 * nothing (device-behaviour.md, "Maximum line length").
 *
 * Bytes are latin1 code units: a Uint8Array byte b becomes the character b, so non-ASCII input reaches
 * the codec intact and is refused there as BAD_FRAME. A string chunk is taken as such code units when
 * all of them are below 0x100, else as UTF-8 (what a serial port would carry for that text).
 */

/** A chunk as the assembler scans it. */
type Chunk = string | Uint8Array;

const NL = 0x0a;
const CR = 0x0d;

export interface LineSink {
  /** A complete line, without its `\n` (a final `\r`, if any, is kept: the codec tolerates it). */
  line(text: string): void;
  /** A line grew beyond the cap; `head` is its first `cap` bytes. The rest, up to `\n`, is discarded. */
  overflow(head: string): void;
}

export class LineAssembler {
  private buf = '';
  /** A `\r` arrived when the buffer was full: legal only if `\n` follows at once. Kept as a flag, not a byte. */
  private pendingCr = false;
  private discarding = false;

  /** @param cap maximum line length in bytes, excluding `\n` and one tolerated `\r`. */
  constructor(private readonly cap: number) {}

  /** Bytes held for the line being assembled (never more than the cap). */
  get buffered(): number {
    return this.buf.length;
  }

  /** Forget any partial line (a reboot empties the receive buffer). */
  reset(): void {
    this.buf = '';
    this.pendingCr = false;
    this.discarding = false;
  }

  push(input: Chunk, sink: LineSink): void {
    const chunk = normalise(input);
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      const nl = indexOfNewline(chunk, i);
      const end = nl < 0 ? len : nl;
      if (!this.discarding) this.append(chunk, i, end, sink);
      if (nl >= 0) {
        if (this.discarding) {
          this.discarding = false;
        } else {
          const line = this.pendingCr ? `${this.buf}\r` : this.buf;
          this.buf = '';
          this.pendingCr = false;
          sink.line(line);
        }
      }
      i = nl < 0 ? len : nl + 1;
    }
  }

  private append(chunk: Chunk, from: number, to: number, sink: LineSink): void {
    const n = to - from;
    if (n === 0) return;
    const room = this.cap - this.buf.length;
    if (!this.pendingCr) {
      if (n <= room) {
        this.buf += text(chunk, from, to);
        return;
      }
      if (n === room + 1 && codeAt(chunk, to - 1) === CR) {
        this.buf += text(chunk, from, to - 1);
        this.pendingCr = true;
        return;
      }
    }
    const head = this.pendingCr ? this.buf : this.buf + text(chunk, from, from + room);
    this.buf = '';
    this.pendingCr = false;
    this.discarding = true;
    sink.overflow(head);
  }
}

function normalise(input: Chunk): Chunk {
  if (typeof input !== 'string') return input;
  // eslint-disable-next-line no-control-regex -- the test is exactly "any code unit above 0xFF"
  return /[^\x00-\xff]/.test(input) ? new TextEncoder().encode(input) : input;
}

function indexOfNewline(chunk: Chunk, from: number): number {
  return typeof chunk === 'string' ? chunk.indexOf('\n', from) : chunk.indexOf(NL, from);
}

function codeAt(chunk: Chunk, i: number): number {
  return typeof chunk === 'string' ? chunk.charCodeAt(i) : (chunk[i] as number);
}

/** Latin1 text of chunk[from, to). Only ever called for at most `cap` + 1 bytes. */
function text(chunk: Chunk, from: number, to: number): string {
  return typeof chunk === 'string' ? chunk.slice(from, to) : String.fromCharCode(...chunk.subarray(from, to));
}
