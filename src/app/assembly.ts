/**
 * The one way the ControllerService is assembled (issue 10 §2). The controller process under
 * `edn web` and the Electron app's utilityProcess (src/app/worker-entry.ts), and `edn run`
 * (src/cli/commands/run.ts, in its own process on the monotonic scheduler), all call
 * createControllerService, and the service builds the rest the same way for each: the settings,
 * protocol and session stores on the data directory, the transport for the port
 * (src/device/open.ts), the DeviceClient over it, the SessionRunner with the journal factory
 * (src/session/journal.ts) and the course store. `edn run` then drives it through the contract's
 * calls as a UI does, so a session run headless takes the path of one run from the app, and one
 * tested path serves all three. Tests pass `parts` (a virtual scheduler, a simulator transport,
 * fixed ids).
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
  /** Who runs this host's sessions, over the settings' clinician (`edn run --clinician`). */
  readonly clinician?: string | undefined;
  /**
   * Serial device paths offered besides the ports the system lists (`edn web --serial`): the pty
   * of `edn simulate --pty` or of the firmware in QEMU, a symlink. Only with allowHardware.
   */
  readonly serialPaths?: readonly string[] | undefined;
}

/** Injected parts for tests and benchmarks (scheduler, transport opener, clocks, ids). */
export type ServiceParts = Omit<ControllerServiceOptions, keyof ServiceConfig>;

export function createControllerService(config: ServiceConfig, parts: ServiceParts = {}): ControllerService {
  return new ControllerService({
    ...parts,
    dataDir: config.dataDir,
    allowHardware: config.allowHardware,
    ...(config.appVersion === undefined ? {} : { appVersion: config.appVersion }),
    ...(config.clinician === undefined ? {} : { clinician: config.clinician }),
    ...(config.serialPaths === undefined ? {} : { serialPaths: config.serialPaths }),
  });
}
