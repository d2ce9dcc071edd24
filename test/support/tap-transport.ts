/**
 * A Transport decorator for safety tests: it records every line the host writes (what reached the
 * device, with the host's time) and can rewrite what the device says before the host reads it,
 * so a test can play a device that lies (a wrong echo, a false telemetry value, silence) while the
 * real simulator underneath keeps the session going. Rewritten lines get a fresh, valid CRC: the
 * lie must be caught by the host's checks of meaning, not by the CRC.
 */
import { Subject, type Observable } from 'rxjs';
import { decodeDeviceLine, encode, type DeviceToHost } from '../../firmware-protocol/index.js';
import type { Transport, TransportClosed, TransportInput } from '../../src/device/transport.js';

export interface WrittenLine {
  readonly at: number;
  readonly line: string;
}

/** What a rewrite hook returns: the message(s) the host sees instead (none: the line is lost). */
export type Rewrite = (message: DeviceToHost, line: string) => DeviceToHost | readonly DeviceToHost[] | null;

export class TapTransport implements Transport {
  readonly name: string;
  readonly written: WrittenLine[] = [];
  readonly input$: Observable<TransportInput>;
  readonly closed$: Observable<TransportClosed>;
  /** Set by a test to change what the device says; undefined passes every line through. */
  rewrite: Rewrite | undefined;
  /** While true the host's lines are recorded but never reach the device (a stalled host, as the device sees it). */
  mute = false;
  readonly #inner: Transport;
  readonly #now: () => number;
  readonly #input = new Subject<TransportInput>();

  constructor(inner: Transport, now: () => number) {
    this.#inner = inner;
    this.#now = now;
    this.name = inner.name;
    this.closed$ = inner.closed$;
    this.input$ = this.#input.asObservable();
    inner.input$.subscribe({
      next: (input) => this.#deliver(input),
      complete: () => this.#input.complete(),
    });
  }

  write(line: string): void {
    this.written.push({ at: this.#now(), line });
    if (!this.mute) this.#inner.write(line);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** The "device" says `m` (encoded with a valid CRC), as if it came down the line now. */
  say(m: DeviceToHost): void {
    this.#input.next({ kind: 'line', text: encode(m) });
  }

  #deliver(input: TransportInput): void {
    const hook = this.rewrite;
    if (!hook || input.kind !== 'line') {
      this.#input.next(input);
      return;
    }
    const decoded = decodeDeviceLine(input.text);
    if (!decoded.ok) {
      this.#input.next(input);
      return;
    }
    const out = hook(decoded.message, input.text);
    if (out === null) return;
    const messages: readonly DeviceToHost[] = isList(out) ? out : [out];
    for (const m of messages) this.#input.next({ kind: 'line', text: encode(m) });
  }
}

function isList(x: DeviceToHost | readonly DeviceToHost[]): x is readonly DeviceToHost[] {
  return Array.isArray(x);
}
