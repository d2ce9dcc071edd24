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
import { rendererSource, startWebHost, stopBundler } from '../../../src/web/index.js';

export interface TestHost {
  /** The page to open, with its token. */
  readonly url: string;
  readonly dataDir: string;
  readonly service: ControllerService;
  /** What the host logged (contract mismatches, build failures, grace e-stops). */
  readonly logs: readonly string[];
  close(): Promise<void>;
}

export async function startTestHost(): Promise<TestHost> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'edn-e2e-'));
  const service = new ControllerService({ dataDir, allowHardware: false });
  const logs: string[] = [];
  const host = await startWebHost({ service, page: rendererSource(), validateOutput: true, log: (m) => logs.push(m) });
  let closed = false;
  return {
    url: host.url,
    dataDir,
    service,
    logs,
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
