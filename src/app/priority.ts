/**
 * Process priority for the workers (no `import.meta`: Electron's CommonJS main bundles it).
 */
import os from 'node:os';
import { PURE_WORKER_NICE } from './worker-protocol.js';

/**
 * The pure worker runs below the controller (PURE_WORKER_NICE): its validations wait for the
 * session, never the other way round. A system that refuses (no such process any more) changes
 * nothing else.
 */
export function lowerPriority(pid: number | undefined, setPriority: (pid: number, priority: number) => void = os.setPriority): boolean {
  if (pid === undefined) return false;
  try {
    setPriority(pid, PURE_WORKER_NICE);
    return true;
  } catch {
    return false;
  }
}
