/**
 * The domain core: units, stimulation parameters, charge physics, hard limits and the guard, the
 * protocol file format and library, and screening. Pure TypeScript: no I/O, no timers, no
 * platform imports (ARCHITECTURE.md).
 */
export * from './units.js';
export * from './stimulation.js';
export * from './physics.js';
export * from './safety/limits.js';
export {
  checkStimulation,
  checkAmplitudeChange,
  checkPlan,
  slewCeilingMa,
  isChecked,
  formatViolation,
  type Checked,
  type GuardResult,
  type GuardContext,
  type AmplitudeContext,
  type PlanContext,
  type PlanResult,
  type CommandedAmplitude,
  type Violation,
  type ViolationScope,
  type Warning,
} from './safety/guard.js';
export * from './protocols/index.js';
export * from './screening.js';
export * from './privacy.js';
export { sha256, sha256Hex, toHex } from './hash/sha256.js';
export { JcsError, contentHash, jcs } from './hash/jcs.js';
