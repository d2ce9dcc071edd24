/**
 * User protocols: the same format and validation as the built-ins, plus one rule the library
 * needs. A user protocol may not take a built-in's id or name (compared without case,
 * punctuation or spacing), so no one takes it for the built-in: the built-ins' values marked
 * "verified" were checked against their sources for this library, a user protocol's are its
 * author's claim (see `verificationOf`). A file identical to a built-in (same content hash) is
 * that built-in, not a conflict.
 */
import type { Protocol } from './derive.js';
import { BUILT_INS } from './library/index.js';
import { type ProtocolError, type ProtocolValidation, parseProtocolText, validateProtocol } from './validate.js';

/** A name as it is compared for uniqueness: lower case, words of letters and digits only. */
export function comparableName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Is this exact protocol (by content hash) a built-in? */
export function isBuiltInVersion(hash: string): boolean {
  return BUILT_INS.some((b) => b.hash === hash);
}

/** A user protocol's clashes with the built-in library: its id or its name taken. */
export function builtInConflicts(protocol: Pick<Protocol, 'id' | 'name' | 'hash'>): ProtocolError[] {
  if (isBuiltInVersion(protocol.hash)) return [];
  const out: ProtocolError[] = [];
  const byId = BUILT_INS.find((b) => b.id === protocol.id);
  if (byId) out.push({ path: 'id', message: `"${protocol.id}" is the id of the built-in protocol "${byId.protocol.name}": give your protocol its own id` });
  const name = comparableName(protocol.name);
  const byName = BUILT_INS.find((b) => comparableName(b.protocol.name) === name);
  if (byName) {
    out.push({
      path: 'name',
      message: `"${protocol.name}" is the name of the built-in protocol ${byName.id}: give your protocol its own name (for example "${byName.protocol.name} (customised)"), so no one takes it for the built-in and its checked values`,
    });
  }
  return out;
}

/** Validates a user protocol: validateProtocol, then the library rule. */
export function validateUserProtocol(json: unknown): ProtocolValidation {
  return validateProtocol(json, { rules: builtInConflicts });
}

/** Validates the text of a user protocol file (with line and column). */
export function parseUserProtocolText(text: string, fileName: string): ProtocolValidation {
  return parseProtocolText(text, fileName, { rules: builtInConflicts });
}

/**
 * How a protocol's "verified" lists may be presented: `library` for the built-ins (checked
 * against their sources for this library), `author` for anything else (the author's claim).
 */
export type Verification = 'library' | 'author';

export function verificationOf(hash: string): Verification {
  return isBuiltInVersion(hash) ? 'library' : 'author';
}
