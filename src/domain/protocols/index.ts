/** The protocol file format, its validation, and the built-in library. */
export {
  PROTOCOL_FORMAT,
  REGIONS,
  SIDES,
  FORBIDDEN_REGIONS,
  FORBIDDEN_REGION_SOURCE,
  ProtocolSchema,
  protocolJsonSchema,
  type Region,
  type Side,
  type ProtocolFile,
  type ProtocolFilePhase,
  type ProtocolChannel,
  type ProtocolSource,
  type ProtocolSchedule,
  ScheduleSchema,
  SCHEDULE_LIMITS,
} from './schema.js';
export { plannedCourse, describeSchedule, type PlannedCourse } from './schedule.js';
export {
  MIDLINE_REGIONS,
  REGION_SITES,
  ALL_SITES,
  SITE_NOTE_SEPARATOR,
  allowsMidline,
  forbiddenAreaNamed,
  placementProblems,
  sideProblem,
  siteName,
  siteText,
  type SiteEntry,
  type PlacementProblem,
} from './sites.js';
export {
  validateProtocol,
  parseProtocolText,
  hashProtocolFile,
  formatProtocolError,
  type ProtocolError,
  type ProtocolValidation,
  type ValidateOptions,
} from './validate.js';
export {
  normalizeProtocol,
  phasePattern,
  phaseLimits,
  phaseStimulation,
  phaseDurationS,
  totalDurationMin,
  treatedSites,
  type Protocol,
  type ProtocolPhase,
  type ProtocolChannelView,
  type TreatedSite,
} from './derive.js';
export { parseJsonText, type JsonTextResult, type JsonTextError } from './json-text.js';
export { phaseFigures, type Figure, type FigureStatus, type PhaseFigures } from './figures.js';
export { formatPath, parsePath, pathExists } from './paths.js';
export {
  EVIDENCE_STATUSES,
  protocolEvidence,
  statusWords,
  valueList,
  type EvidenceGroup,
  type EvidencePhase,
  type EvidenceStatus,
  type EvidenceSubject,
  type EvidenceValue,
  type ProtocolEvidence,
} from './evidence.js';
export { BUILT_INS, BUILT_IN_FILES, BUILT_IN_IDS, builtInProtocol, type BuiltInProtocol } from './library/index.js';
export { builtInConflicts, comparableName, isBuiltInVersion, parseUserProtocolText, validateUserProtocol, verificationOf, type Verification } from './user.js';
