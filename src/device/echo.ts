/**
 * What a reply must echo of its request. A device that answers `AMP amp=4000` with
 * `OK AMP amp=20000` has done something other than what was commanded (or says so): the reply is
 * not an acknowledgement, and the session must stop. The SET read-back CRC is compared in
 * client.ts `stage` (it covers every staged value); this covers the fields each reply repeats.
 */
import type { RequestVerb } from '../../firmware-protocol/index.js';

export interface EchoMismatch {
  readonly field: string;
  readonly sent: string;
  readonly got: string;
}

/** The first field of `reply` that contradicts `request` (PROTOCOL.md §7 replies), if any. */
export function echoMismatch(verb: RequestVerb, request: Readonly<Record<string, unknown>>, reply: Readonly<Record<string, unknown>>): EchoMismatch | undefined {
  const same = (field: string): EchoMismatch | undefined =>
    request[field] === reply[field] ? undefined : { field, sent: show(request[field]), got: show(reply[field]) };
  switch (verb) {
    case 'SET':
    case 'START':
    case 'IMP':
      return same('ch');
    case 'AMP':
      return same('ch') ?? same('amp');
    case 'STOP':
      return same('ch');
    case 'ESTOP':
      return reply.latched === true ? undefined : { field: 'latched', sent: '1 (expected)', got: show(reply.latched) };
    case 'CLEAR':
      return reply.latched === false ? undefined : { field: 'latched', sent: '0 (expected)', got: show(reply.latched) };
    case 'HELLO':
    case 'HB':
    case 'STATUS':
      return undefined;
  }
}

function show(x: unknown): string {
  if (x === undefined) return '(none)';
  if (typeof x === 'boolean') return x ? '1' : '0';
  return typeof x === 'number' || typeof x === 'string' ? String(x) : JSON.stringify(x);
}
