/**
 * The browser host (src/web) started in this process on 127.0.0.1 with a fresh temporary data
 * directory, serving the real renderer (bundled from electron/renderer on each page load) and the
 * real ControllerService on the simulator. Results are checked against the contract
 * (validateOutput); anything the host would log is collected for the test to assert on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ControllerService } from '../../../src/app/service.js';
import { openTransport } from '../../../src/device/open.js';
import type { SimEvent, SimulatedStimulator } from '../../../src/simulator/index.js';
import { rendererSource, startWebHost, stopBundler } from '../../../src/web/index.js';

/** What the simulated device did, with when (performance.now(), ms). */
export interface DeviceEvent {
  readonly atMs: number;
  readonly event: SimEvent;
}

export interface TestHost {
  /** The page to open, with its token. */
  readonly url: string;
  readonly dataDir: string;
  readonly service: ControllerService;
  /** What the host logged (contract mismatches, build failures, e-stops for a lost or frozen UI). */
  readonly logs: readonly string[];
  /** Everything the in-process simulated device reported (its outputs switching, e-stops). */
  readonly device: readonly DeviceEvent[];
  /** Pings sent to the controlling page so far, and e-stops for a frozen page. */
  readonly liveness: () => { readonly pings: number; readonly unresponsiveStops: number };
  /** The simulated device of the current connection (for fault injection), once connected. */
  readonly simulator: () => SimulatedStimulator | undefined;
  close(): Promise<void>;
}

export async function startTestHost(): Promise<TestHost> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'edn-e2e-'));
  const device: DeviceEvent[] = [];
  let simulator: SimulatedStimulator | undefined;
  const service = new ControllerService({
    dataDir,
    allowHardware: false,
    openTransport: async (p, scheduler) => {
      const opened = await openTransport(p, scheduler);
      opened.simulator?.onEvent((event) => device.push({ atMs: performance.now(), event }));
      simulator = opened.simulator;
      return opened;
    },
  });
  const logs: string[] = [];
  const host = await startWebHost({ service, page: rendererSource(), validateOutput: true, log: (m) => logs.push(m) });
  let closed = false;
  return {
    url: host.url,
    dataDir,
    service,
    logs,
    device,
    liveness: () => ({ pings: host.pings, unresponsiveStops: host.unresponsiveStops }),
    simulator: () => simulator,
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (service.outputMayBeOn()) await service.emergencyStop('shutdown');
        await host.close();
        await service.dispose();
        await stopBundler();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
