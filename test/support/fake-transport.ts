/**
 * A Transport test double: records what the host writes and lets a test play the device by hand,
 * line by line, on virtual time. Lines are delivered synchronously.
 */
import { ReplaySubject, Subject } from 'rxjs';
import { decodeRequest, encode, type DeviceToHost, type HostToDevice } from '../../firmware-protocol/index.js';
import type { Transport, TransportClosed, TransportInput } from '../../src/device/transport.js';

export class FakeTransport implements Transport {
  readonly name = 'fake';
  readonly written: string[] = [];
  readonly input$ = new Subject<TransportInput>();
  readonly closed$ = new ReplaySubject<TransportClosed>(1);
  /** Called for each decoded request the host writes; return replies to send back at once. */
  device: ((req: HostToDevice) => DeviceToHost[] | undefined) | undefined;
  #closed = false;

  write(line: string): void {
    if (this.#closed) return;
    this.written.push(line);
    const decoded = decodeRequest(line);
    if (!decoded.ok) throw new Error(`host wrote an invalid line: ${line} (${decoded.error.message})`);
    const replies = this.device?.(decoded.message) ?? [];
    for (const r of replies) this.receive(encode(r));
  }

  /** Deliver one line from the "device". */
  receive(text: string): void {
    this.input$.next({ kind: 'line', text });
  }

  /** Requests the host wrote, decoded. */
  requests(): HostToDevice[] {
    return this.written.map((l) => {
      const d = decodeRequest(l);
      if (!d.ok) throw new Error(d.error.message);
      return d.message;
    });
  }

  /** The port disappears (cable pull). */
  pull(): void {
    this.#closed = true;
    this.closed$.next({ reason: 'disconnected', detail: 'the port went away' });
    this.input$.complete();
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.closed$.next({ reason: 'closed', detail: 'closed by the host' });
      this.input$.complete();
    }
    return Promise.resolve();
  }
}
