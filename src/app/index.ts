/**
 * The app layer: the contract every UI speaks, the service that implements it, and the dispatcher
 * both adapters (Electron IPC, the WebSocket host) bind it with. The renderer imports only
 * contract.ts, never this barrel (it would pull in Node modules).
 */
export * from './contract.js';
export {
  ControllerService,
  OUTPUT_MAY_BE_ON,
  sessionFail,
  type ContractHandlers,
  type ControllerServiceOptions,
  type ServiceEvent,
} from './service.js';
export { createDispatcher, outputProblem, type Dispatcher, type DispatcherOptions } from './dispatch.js';
export { DEFAULT_SETTINGS, SETTINGS_FILE, SettingsStore, clinicianProblem } from './settings.js';
export {
  JOURNAL_NAME_PATTERN,
  MAX_PROTOCOL_BYTES,
  PROTOCOL_ID_PATTERN,
  ProtocolStore,
  SessionStore,
  journalIntact,
  writeFileAtomic,
  type JournalSummary,
  type UserProtocolEntry,
} from './store.js';
