/**
 * Building the reference firmware (firmware-protocol/c) on demand, for `edn simulate --firmware`
 * and the firmware tests: `make -C firmware-protocol/c B=<dir> <target>` under an exclusive
 * `flock` on `<dir>/.lock`, so that concurrent callers (vitest runs test files in parallel) never
 * compile into the same directory at once. make is incremental: a build that is up to date costs
 * a few milliseconds.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The firmware source directory. */
export const FIRMWARE_DIR = fileURLToPath(new URL('../../firmware-protocol/c/', import.meta.url));

/** Where `edn simulate --firmware` builds unless EDN_FW_BUILD_DIR says otherwise (git-ignored). */
export const DEFAULT_BUILD_DIR = join(FIRMWARE_DIR, 'build');

/** Make targets and the files they produce, relative to the build directory. */
export const FIRMWARE_TARGETS = {
  /** The host port, plain -O2 build. */
  host: ['host/edn-fw-host'],
  /** The host port under ASan/UBSan, the conformance-vector driver and the virtual-time replay harness. */
  tools: ['asan/edn-fw-host', 'asan/edn-fw-replay', 'asan/edn-vectors'],
  /** The mps2-an385 (Cortex-M3) image for QEMU. */
  qemu: ['mps2/edn-fw-mps2.elf'],
  /** The libFuzzer targets (clang, ASan + UBSan). */
  fuzz: ['fuzz/fuzz_decode', 'fuzz/fuzz_device'],
} as const;

export type FirmwareTarget = keyof typeof FIRMWARE_TARGETS;

/** The build failed or a tool is missing; `output` is what make printed. */
export class FirmwareBuildError extends Error {
  override readonly name = 'FirmwareBuildError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Build `target` into `buildDir` (created if missing); resolves with the absolute paths of its files. */
export async function buildFirmware(target: FirmwareTarget, buildDir: string = DEFAULT_BUILD_DIR): Promise<string[]> {
  const dir = resolve(buildDir);
  mkdirSync(dir, { recursive: true });
  const args = [join(dir, '.lock'), 'make', '--no-print-directory', '-C', FIRMWARE_DIR, `B=${dir}`, target];
  const output = await new Promise<string>((done, fail) => {
    const child = spawn('flock', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.once('error', (err: NodeJS.ErrnoException) =>
      fail(new FirmwareBuildError(err.code === 'ENOENT' ? "cannot build the firmware: 'flock' (util-linux) or 'make' is not installed" : `cannot build the firmware: ${err.message}`, text)),
    );
    child.once('close', (code) => {
      if (code === 0) done(text);
      else fail(new FirmwareBuildError(`building the firmware (make ${target}) failed with exit code ${code}:\n${text.trim().split('\n').slice(-15).join('\n')}`, text));
    });
  });
  void output;
  return FIRMWARE_TARGETS[target].map((f) => join(dir, f));
}
