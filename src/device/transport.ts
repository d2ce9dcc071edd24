/**
 * The one small interface hardware access hides behind (after node-serialport's BindingInterface):
 * the device client knows only this. Implementations: the serial port (serial-transport.ts), the
 * in-process simulator (sim-transport.ts), and test doubles.
 */
import type { Observable } from 'rxjs';

/** What a transport delivers: a complete line (without `\n`), or notice of an over-long one dropped. */
export type TransportInput = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'overflow'; readonly droppedBytes: number };

export interface TransportClosed {
  /** `disconnected`: the port went away on its own (cable pull, unplugged). `closed`: we closed it. */
  readonly reason: 'disconnected' | 'closed';
  readonly detail: string;
}

export interface Transport {
  /** A name for people and the journal: a port path, or `simulator`. */
  readonly name: string;
  /**
   * Hand one line (without its `\n`) to the port at once. Never queued behind other work by the
   * transport itself; a write after close is dropped (the closure has already been reported).
   */
  write(line: string): void;
  /** Incoming lines. Completes when the transport closes. */
  readonly input$: Observable<TransportInput>;
  /** Emits once, when the transport stops for good. */
  readonly closed$: Observable<TransportClosed>;
  /** Close the port. Resolves when it is closed; idempotent. */
  close(): Promise<void>;
}
