/**
 * The host's line reader: bytes from the serial port in, one typed record per line out.
 *
 * Built on @serialport/parser-readline's `ReadlineParser` (delimiter `\n`, latin1 so that every
 * byte becomes exactly one UTF-16 code unit and a non-ASCII or binary byte reaches the codec as
 * itself, to be reported as BAD_FRAME). `ReadlineParser` alone buffers without bound until it sees
 * a delimiter, so a guard runs IN FRONT of it: it counts the bytes since the last `\n` and hands the
 * parser at most {@link MAX_BUFFERED_BYTES} of them; the rest of an over-long line is dropped on
 * the floor, counted, and reported once, as a `TOO_LONG` overflow record, when its `\n` arrives.
 * Reading resumes with the next line. Memory held between chunks therefore never exceeds
 * {@link MAX_BUFFERED_BYTES}, whatever arrives (10 MB without a newline included).
 *
 * A trailing `\r` is passed through in `text` (the codec tolerates it); a line of exactly
 * MAX_LINE_BYTES bytes followed by `\r\n` is a valid line. Empty lines are passed through as
 * `{kind: 'line', text: ''}` (the protocol ignores them; that is the client's decision, not the
 * reader's).
 */
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import { MAX_LINE_BYTES } from '../../firmware-protocol/index.js';

const LF = 0x0a;
const CR = 0x0d;
const NEWLINE = Buffer.from([LF]);

/** The most bytes the reader keeps between chunks: a maximum line plus its tolerated `\r`. */
export const MAX_BUFFERED_BYTES = MAX_LINE_BYTES + 1;

/** One complete line (without its `\n`; a trailing `\r`, if any, is kept), decoded as latin1. */
export interface LineRecord {
  readonly kind: 'line';
  readonly text: string;
}

/**
 * A line longer than MAX_LINE_BYTES (not counting `\n` and one tolerated `\r`): discarded whole.
 * `droppedBytes` is the line's full length without its `\n`.
 */
export interface OverflowRecord {
  readonly kind: 'overflow';
  readonly code: 'TOO_LONG';
  readonly droppedBytes: number;
}

/**
 * What the reader emits. Structurally a `TransportInput` (src/device/transport.ts), so a transport
 * can forward records as they are.
 */
export type ReadRecord = LineRecord | OverflowRecord;

export interface LineReaderOptions {
  /** Maximum line length in bytes, excluding `\n` and one tolerated `\r`. Default MAX_LINE_BYTES (256). */
  readonly maxLineBytes?: number;
}

/**
 * A Transform stream: write Buffers (e.g. pipe a SerialPort into it), read {@link ReadRecord}
 * objects. Records come out in the order their lines ended on the wire.
 */
export class LineReader extends Transform {
  /** Lines emitted as `{kind: 'line'}`. */
  linesRead = 0;
  /** Over-long lines discarded (one per line, however long). */
  overflows = 0;
  /** Bytes discarded: over-long lines, and bytes left without a `\n` when the input ended. */
  droppedBytes = 0;
  /** Bytes left without a `\n` when the input ended (not a line, so no record; counted here). */
  unterminatedBytes = 0;

  readonly #max: number;
  readonly #parser: ReadlineParser;
  /** Bytes of the current line seen so far (its true length, not what the parser was given). */
  #sinceNewline = 0;
  /** True lengths of the lines longer than `#max` that the parser has yet to emit, in order. */
  readonly #longLines: number[] = [];

  constructor(options: LineReaderOptions = {}) {
    const opts: TransformOptions = { readableObjectMode: true, writableObjectMode: false };
    super(opts);
    this.#max = options.maxLineBytes ?? MAX_LINE_BYTES;
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new RangeError(`maxLineBytes must be a positive integer, not ${this.#max}`);
    this.#parser = new ReadlineParser({ delimiter: '\n', encoding: 'latin1', includeDelimiter: true });
    this.#parser.on('data', (line: string) => this.#emit(line));
    this.#parser.on('error', (err: Error) => this.destroy(err));
  }

  /**
   * Bytes held between chunks: what the ReadlineParser has buffered towards its next line plus
   * anything queued on its writable side. Never more than {@link MAX_BUFFERED_BYTES} once a write
   * has been processed.
   */
  get bufferedBytes(): number {
    return this.#parser.buffer.length + this.#parser.writableLength;
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    const pass = this.#guard(bytes);
    if (pass.length > 0) this.#parser.write(pass);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#sinceNewline > this.#max) this.#longLines.push(this.#sinceNewline);
    this.#parser.once('end', () => callback());
    this.#parser.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#parser.destroy();
    callback(error);
  }

  /**
   * Pass each line's first `#max + 1` bytes and every `\n` to the parser; drop the rest. Records
   * the true length of each line longer than `#max` so that {@link #emit} can tell what it was.
   */
  #guard(bytes: Buffer): Buffer {
    const cap = this.#max + 1;
    const pieces: Buffer[] = [];
    let start = 0;
    while (start <= bytes.length) {
      const nl = bytes.indexOf(LF, start);
      const end = nl < 0 ? bytes.length : nl;
      const room = Math.max(0, cap - this.#sinceNewline);
      const take = Math.min(end - start, room);
      if (take > 0) pieces.push(bytes.subarray(start, start + take));
      this.#sinceNewline += end - start;
      if (nl < 0) break;
      pieces.push(NEWLINE);
      if (this.#sinceNewline > this.#max) this.#longLines.push(this.#sinceNewline);
      this.#sinceNewline = 0;
      start = nl + 1;
    }
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  }

  /**
   * Classify one string from the parser: terminated lines end with `\n`; the tail the parser
   * flushes at the end of the input does not, and is only counted.
   */
  #emit(raw: string): void {
    const terminated = raw.endsWith('\n');
    const text = terminated ? raw.slice(0, -1) : raw;
    const length = text.length > this.#max ? (this.#longLines.shift() ?? text.length) : text.length;
    if (!terminated) {
      this.unterminatedBytes += length;
      this.droppedBytes += length;
      return;
    }
    const tolerated = length === this.#max + 1 && text.charCodeAt(text.length - 1) === CR;
    if (length > this.#max && !tolerated) {
      this.overflows += 1;
      this.droppedBytes += length;
      this.push({ kind: 'overflow', code: 'TOO_LONG', droppedBytes: length } satisfies OverflowRecord);
      return;
    }
    this.linesRead += 1;
    this.push({ kind: 'line', text } satisfies LineRecord);
  }
}
