/**
 * A real serial port as a Transport: the `serialport` package (115200 8N1, no flow control) with
 * the capped line reader in front of the decoder. A port that closes on its own (a USB-serial
 * adapter unplugged, the device powered off) is reported as `disconnected`.
 */
import { ReplaySubject, Subject } from 'rxjs';
import { SerialPort } from 'serialport';
import { LineReader, type ReadRecord } from './line-reader.js';
import type { Transport, TransportClosed, TransportInput } from './transport.js';

/** The wire's physical layer (PROTOCOL.md §1). */
export const BAUD_RATE = 115_200;

export interface SerialTransportOptions {
  /** Device path, e.g. /dev/ttyUSB0 or COM3. */
  readonly path: string;
  /** Baud rate; default 115200 (the protocol's). */
  readonly baudRate?: number;
}

export class SerialTransport implements Transport {
  readonly name: string;
  readonly input$ = new Subject<TransportInput>();
  readonly closed$ = new ReplaySubject<TransportClosed>(1);
  readonly #port: SerialPort;
  readonly #reader = new LineReader();
  #open = true;
  #closing = false;

  private constructor(port: SerialPort, path: string) {
    this.name = path;
    this.#port = port;
    port.pipe(this.#reader);
    this.#reader.on('data', (r: ReadRecord) => {
      this.input$.next(r.kind === 'line' ? { kind: 'line', text: r.text } : { kind: 'overflow', droppedBytes: r.droppedBytes });
    });
    port.on('close', (e: (Error & { disconnected?: boolean }) | null) => {
      this.#end(this.#closing ? 'closed' : 'disconnected', e?.message ?? (this.#closing ? 'closed by the host' : 'the port closed'));
    });
    port.on('error', (e: Error) => {
      // A write or read error on an open port means the port is unusable.
      this.#end('disconnected', e.message);
    });
  }

  /** Open the port; resolves when it is open, or rejects with the OS's reason. */
  static open(options: SerialTransportOptions): Promise<SerialTransport> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path: options.path, baudRate: options.baudRate ?? BAUD_RATE, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false, autoOpen: false });
      port.open((e) => {
        if (e) reject(new Error(`cannot open ${options.path}: ${e.message}`));
        else resolve(new SerialTransport(port, options.path));
      });
    });
  }

  write(line: string): void {
    if (!this.#open) return;
    this.#port.write(`${line}\n`, 'latin1');
  }

  close(): Promise<void> {
    if (!this.#open) return Promise.resolve();
    this.#closing = true;
    return new Promise((resolve) => {
      this.#port.close(() => {
        this.#end('closed', 'closed by the host');
        resolve();
      });
    });
  }

  #end(reason: TransportClosed['reason'], detail: string): void {
    if (!this.#open) return;
    this.#open = false;
    this.#reader.end();
    this.closed$.next({ reason, detail });
    this.closed$.complete();
    this.input$.complete();
  }
}
