/**
 * Port listing: what the clinician chooses from. Likely stimulators are marked by their USB
 * vendor:product ids (configurable); the simulator is always offered, first when no hardware is
 * found.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { SerialPort } from 'serialport';

export interface PortEntry {
  /** What to pass to connect: a device path, or `sim` for the simulator. */
  readonly path: string;
  readonly kind: 'serial' | 'simulator';
  readonly label: string;
  readonly vendorId?: string;
  readonly productId?: string;
  readonly manufacturer?: string;
  /** Its USB ids are in the list of known stimulator interfaces. */
  readonly likelyStimulator: boolean;
}

/** The path that selects the in-process simulator. */
export const SIMULATOR_PATH = 'sim';

/**
 * USB-serial interfaces stimulators are commonly built on (vendor:product, lower-case hex):
 * FTDI FT232R and FT231X, Silicon Labs CP210x, WCH CH340. Overridable by settings or `--usb-ids`.
 */
export const DEFAULT_STIMULATOR_USB_IDS: readonly string[] = ['0403:6001', '0403:6015', '10c4:ea60', '1a86:7523'];

export interface ListPortsOptions {
  readonly usbIds?: readonly string[];
  /** Injected for tests; defaults to serialport's list (or a /dev scan where that cannot run). */
  readonly list?: () => Promise<readonly RawPort[]>;
  /**
   * Paths to offer besides what the system lists: pseudo-terminals, which no port listing shows
   * (`edn simulate --pty --link PATH`, the firmware in QEMU). Default: EDN_EXTRA_PORTS, paths
   * separated by ':' (README, "Firmware").
   */
  readonly extraPaths?: readonly string[];
}

/** The paths in EDN_EXTRA_PORTS (':'-separated; empty entries ignored). */
export function extraPortsFromEnv(value: string | undefined = process.env.EDN_EXTRA_PORTS): string[] {
  return (value ?? '').split(':').filter((p) => p.length > 0);
}

export interface RawPort {
  readonly path: string;
  readonly manufacturer?: string | undefined;
  readonly vendorId?: string | undefined;
  readonly productId?: string | undefined;
}

export async function listPorts(options: ListPortsOptions = {}): Promise<PortEntry[]> {
  const ids = new Set((options.usbIds ?? DEFAULT_STIMULATOR_USB_IDS).map((s) => s.toLowerCase()));
  let raw: readonly RawPort[];
  try {
    raw = await (options.list ?? systemPorts)();
  } catch {
    raw = [];
  }
  const extra = (options.extraPaths ?? extraPortsFromEnv()).filter((path) => !raw.some((p) => p.path === path));
  raw = [...raw, ...extra.map((path) => ({ path, manufacturer: 'EDN_EXTRA_PORTS' }))];
  const serial: PortEntry[] = raw.map((p) => {
    const id = p.vendorId && p.productId ? `${p.vendorId}:${p.productId}`.toLowerCase() : undefined;
    const likely = id !== undefined && ids.has(id);
    return {
      path: p.path,
      kind: 'serial',
      label: [p.path, p.manufacturer, id ? `(${id})` : undefined].filter(Boolean).join(' '),
      ...(p.vendorId ? { vendorId: p.vendorId } : {}),
      ...(p.productId ? { productId: p.productId } : {}),
      ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
      likelyStimulator: likely,
    };
  });
  serial.sort((a, b) => Number(b.likelyStimulator) - Number(a.likelyStimulator) || a.path.localeCompare(b.path));
  const sim: PortEntry = { path: SIMULATOR_PATH, kind: 'simulator', label: 'Simulated stimulator (no hardware)', likelyStimulator: false };
  return serial.some((p) => p.likelyStimulator) ? [...serial, sim] : [sim, ...serial];
}

/**
 * serialport's list() on Linux runs `udevadm`, and crashes the process with an unhandled error
 * event when it is not installed; check first, and fall back to a scan of /dev.
 */
async function systemPorts(): Promise<readonly RawPort[]> {
  if (process.platform === 'linux' && !(await hasUdevadm())) return scanDev();
  return SerialPort.list();
}

function hasUdevadm(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('udevadm', ['--version'], (e) => resolve(!e));
  });
}

async function scanDev(): Promise<RawPort[]> {
  const names = await readdir('/dev').catch(() => [] as string[]);
  return names.filter((n) => /^tty(USB|ACM)\d+$/.test(n)).map((n) => ({ path: `/dev/${n}` }));
}
