/**
 * The one way the ControllerService is assembled (issue 10 §2): the controller worker under
 * `edn web` and the Electron app's utilityProcess (src/app/worker-entry.ts) call
 * createControllerService with the same serializable config, and the service builds the
 * rest the same way for each: the settings, protocol and session stores on the data directory, the
 * transport for the port (src/device/open.ts), the DeviceClient over it, the SessionRunner with
 * the journal factory (src/session/journal.ts) and the course store. So one tested path serves
 * both; tests pass `parts` (a virtual scheduler, a simulator transport, fixed ids). `edn run`
 * still builds its DeviceClient and SessionRunner itself (src/cli/commands/run.ts): not yet here.
 */
import { ControllerService, type ControllerServiceOptions } from './service.js';

/** What a host decides; everything else follows from it. */
export interface ServiceConfig {
  /** The data directory: protocols/, sessions/, settings.json, the course store. */
  readonly dataDir: string;
  /** Real serial ports may be listed and opened (false: the simulator only). */
  readonly allowHardware: boolean;
  /** Recorded in each session's start record. */
  readonly appVersion?: string | undefined;
}

/** Injected parts for tests and benchmarks (scheduler, transport opener, clocks, ids). */
export type ServiceParts = Omit<ControllerServiceOptions, keyof ServiceConfig>;

export function createControllerService(config: ServiceConfig, parts: ServiceParts = {}): ControllerService {
  return new ControllerService({
    ...parts,
    dataDir: config.dataDir,
    allowHardware: config.allowHardware,
    ...(config.appVersion === undefined ? {} : { appVersion: config.appVersion }),
  });
}
