/**
 * Process priority for the workers (no `import.meta`: Electron's CommonJS main bundles it).
 */
import os from 'node:os';
import { CONTROLLER_NICE, PURE_WORKER_NICE } from './worker-protocol.js';

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

/**
 * The controller asks to run above ordinary processes (CONTROLLER_NICE). Most accounts may not
 * raise a priority: refused, it keeps the default and nothing else changes. False when refused.
 */
export function raisePriority(pid: number | undefined, nice: number = CONTROLLER_NICE, setPriority: (pid: number, priority: number) => void = os.setPriority): boolean {
  if (pid === undefined || nice === 0) return false;
  try {
    setPriority(pid, nice);
    return true;
  } catch {
    return false;
  }
}
