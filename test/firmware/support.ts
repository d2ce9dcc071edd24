/**
 * Shared by the firmware tests: one build of the firmware per source version, reused by every test
 * file and every concurrent run. The build directory is a content-addressed cache in the system's
 * temporary directory (`edn-fw-<hash of firmware-protocol/c>`), never the working tree; concurrent
 * builds of the same sources wait for each other (src/cli/firmware-build.ts takes a flock).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FIRMWARE_DIR, buildFirmware, type FirmwareTarget } from '../../src/cli/firmware-build.js';

function sourcesHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(FIRMWARE_DIR, path);
      if (rel === 'build' || rel.startsWith('build/')) continue;
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(rel).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(FIRMWARE_DIR);
  return hash.digest('hex').slice(0, 16);
}

/** The build directory the firmware tests use for the present sources. */
export const FIRMWARE_BUILD_DIR = join(tmpdir(), `edn-fw-${sourcesHash()}`);

/** Build `target` (make is incremental; the first caller compiles, the rest wait and reuse). */
export function built(target: FirmwareTarget): Promise<string[]> {
  return buildFirmware(target, FIRMWARE_BUILD_DIR);
}

/** Minutes a cold build may take on a loaded 2-core machine, as a hook timeout (ms). */
export const BUILD_TIMEOUT_MS = 180_000;
