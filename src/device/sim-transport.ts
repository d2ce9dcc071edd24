/**
 * The in-process simulator as a Transport: the host's lines go straight into the simulated
 * device, its lines come back through the same capped line assembly a device uses. Delivery is
 * synchronous, so a whole session runs deterministically on virtual time.
 */
import { ReplaySubject, Subject } from 'rxjs';
import { MAX_LINE_BYTES } from '../../firmware-protocol/index.js';
import { LineAssembler } from '../simulator/lines.js';
import type { SimulatedStimulator } from '../simulator/index.js';
import type { Transport, TransportClosed, TransportInput } from './transport.js';

export class SimulatorTransport implements Transport {
  readonly name: string;
  readonly input$ = new Subject<TransportInput>();
  readonly closed$ = new ReplaySubject<TransportClosed>(1);
  readonly #sim: SimulatedStimulator;
  readonly #lines = new LineAssembler(MAX_LINE_BYTES);
  readonly #detach: () => void;
  #open = true;

  constructor(sim: SimulatedStimulator, name = 'simulator') {
    this.name = name;
    this.#sim = sim;
    this.#detach = sim.onTransmit((chunk) => {
      if (!this.#open) return;
      this.#lines.push(chunk, {
        line: (text) => this.input$.next({ kind: 'line', text }),
        overflow: (head) => this.input$.next({ kind: 'overflow', droppedBytes: head.length }),
      });
    });
  }

  write(line: string): void {
    if (!this.#open) return;
    this.#sim.receive(`${line}\n`);
  }

  /**
   * The port disappears, as a USB-serial adapter does when its cable is pulled. (The simulator's
   * own `cablePull()` is the other kind: the port stays, the link goes silent.)
   */
  unplug(): void {
    this.#end('disconnected', 'the port went away (unplugged)');
  }

  close(): Promise<void> {
    this.#end('closed', 'closed by the host');
    return Promise.resolve();
  }

  #end(reason: TransportClosed['reason'], detail: string): void {
    if (!this.#open) return;
    this.#open = false;
    this.#detach();
    this.closed$.next({ reason, detail });
    this.closed$.complete();
    this.input$.complete();
  }
}
