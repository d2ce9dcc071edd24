/**
 * What can go wrong talking to a device, as values with codes (ARCHITECTURE.md: errors are values),
 * so the session, the journal and the UI can say exactly what happened.
 */
import type { Result as DomainResult } from '../domain/result.js';
import type { DecodeErrorCode, ErrorCode, RequestVerb } from '../../firmware-protocol/index.js';

export type DeviceError =
  /** No reply after every attempt (the first send and each retry). */
  | { readonly code: 'AckTimeout'; readonly verb: RequestVerb; readonly seq: number; readonly attempts: number; readonly waitedMs: number }
  /** The device answered `ERR code=...`. */
  | { readonly code: 'DeviceRejected'; readonly verb: RequestVerb; readonly seq: number; readonly deviceCode: ErrorCode; readonly detail?: string }
  /** The reply line carried our seq but could not be decoded (e.g. a HELLO reply missing a limit). */
  | { readonly code: 'BadReply'; readonly verb: RequestVerb; readonly seq: number; readonly decodeCode: DecodeErrorCode; readonly detail: string }
  /** The reply answered a different verb than the request with that seq. */
  | { readonly code: 'UnexpectedReply'; readonly verb: RequestVerb; readonly seq: number; readonly got: string }
  /** The port went away (cable pulled, device unplugged, or closed while waiting). */
  | { readonly code: 'Disconnected'; readonly detail: string }
  /** The device restarted: its boot id changed. Nothing it was doing is still true. */
  | { readonly code: 'Rebooted'; readonly previousBootId: string; readonly bootId: string }
  /** HELLO refused or the device is unusable (version, missing or unsafe limits). */
  | { readonly code: 'HandshakeRefused'; readonly detail: string }
  /** The CRC the device echoed for a SET does not match what was sent. */
  | { readonly code: 'ReadbackMismatch'; readonly channel: number; readonly sent: string; readonly stored: string }
  /** The reply contradicts its request (`OK AMP amp=20000` to `AMP amp=4000`): not done as commanded. */
  | { readonly code: 'EchoMismatch'; readonly verb: RequestVerb; readonly seq: number; readonly field: string; readonly sent: string; readonly got: string }
  /**
   * The device no longer has a session with this host (it answered `ERR NO_HELLO` after a HELLO
   * succeeded): it reset or its watchdog ended the session without a word; nothing it was doing is
   * known any more.
   */
  | { readonly code: 'SessionLost'; readonly verb: RequestVerb; readonly detail: string }
  /** The request was withdrawn before it was answered (an e-stop overtook it, or the client closed). */
  | { readonly code: 'Cancelled'; readonly verb: RequestVerb; readonly reason: string }
  /** A value cannot be written on the wire exactly (never rounded silently). */
  | { readonly code: 'Unencodable'; readonly detail: string }
  /** A stimulating frame asked for without a value the guard issued, or through the generic request(): refused, nothing sent. */
  | { readonly code: 'Unchecked'; readonly verb: RequestVerb; readonly detail: string }
  /** A request needs a connected (handshaken) device. */
  | { readonly code: 'NotConnected'; readonly verb: RequestVerb };

export type DeviceErrorCode = DeviceError['code'];

/** The domain's one Result shape, with the device's errors by default. */
export type Result<T, E = DeviceError> = DomainResult<T, E>;

export { err, ok } from '../domain/result.js';

/** One line for a person: what happened, in words. */
export function describeDeviceError(e: DeviceError): string {
  switch (e.code) {
    case 'AckTimeout':
      return `${e.verb} (seq ${e.seq}) got no reply after ${e.attempts} attempts over ${e.waitedMs} ms`;
    case 'DeviceRejected':
      return `device refused ${e.verb}: ${e.deviceCode}${e.detail ? ` (${e.detail})` : ''}`;
    case 'BadReply':
      return `device's reply to ${e.verb} is invalid (${e.decodeCode}): ${e.detail}`;
    case 'UnexpectedReply':
      return `device answered ${e.verb} (seq ${e.seq}) with ${e.got}`;
    case 'Disconnected':
      return `device disconnected: ${e.detail}`;
    case 'Rebooted':
      return `device restarted (boot id ${e.previousBootId} -> ${e.bootId}); output is off and nothing resumes automatically`;
    case 'HandshakeRefused':
      return `device not usable: ${e.detail}`;
    case 'ReadbackMismatch':
      return `channel ${e.channel}: the device stored different parameters (read-back CRC ${e.stored}, sent ${e.sent})`;
    case 'EchoMismatch':
      return e.verb === 'AMP' && e.field === 'amp'
        ? `the device answered AMP with amp=${e.got} µA (${Number(e.got) / 1000} mA) though amp=${e.sent} µA (${Number(e.sent) / 1000} mA) was sent: it did not do what was commanded`
        : `the device answered ${e.verb} with ${e.field}=${e.got} though ${e.field}=${e.sent} was sent: it did not do what was commanded`;
    case 'SessionLost':
      return `the device lost its session with this computer (it answered ${e.verb} with ERR NO_HELLO${e.detail ? `: ${e.detail}` : ''}): it reset or timed out without saying so; output is off and nothing resumes automatically`;
    case 'Cancelled':
      return `${e.verb} withdrawn: ${e.reason}`;
    case 'Unencodable':
      return `cannot send exactly: ${e.detail}`;
    case 'NotConnected':
      return `${e.verb} needs a connected device`;
    case 'Unchecked':
      return `${e.verb} refused: ${e.detail}`;
  }
}
