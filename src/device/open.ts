/**
 * Open a transport by what the user chose: `sim` for the in-process simulator, otherwise a serial
 * port path.
 */
import type { SchedulerLike } from 'rxjs';
import { SimulatedStimulator, type SimulatorOptions } from '../simulator/index.js';
import { SIMULATOR_PATH } from './ports.js';
import { SerialTransport } from './serial-transport.js';
import { SimulatorTransport } from './sim-transport.js';
import type { Transport } from './transport.js';

export interface OpenedTransport {
  readonly transport: Transport;
  /** The in-process simulator, when that was chosen (for fault injection and shutdown). */
  readonly simulator?: SimulatedStimulator;
  /** Close the transport and, for the simulator, stop it. */
  close(): Promise<void>;
}

export async function openTransport(
  path: string,
  scheduler: SchedulerLike,
  simulator: Omit<SimulatorOptions, 'scheduler'> = {},
): Promise<OpenedTransport> {
  if (path === SIMULATOR_PATH) {
    const sim = new SimulatedStimulator({ ...simulator, scheduler });
    const transport = new SimulatorTransport(sim);
    sim.start();
    return {
      transport,
      simulator: sim,
      close: async () => {
        await transport.close();
        sim.dispose();
      },
    };
  }
  const transport = await SerialTransport.open({ path });
  return { transport, close: () => transport.close() };
}
