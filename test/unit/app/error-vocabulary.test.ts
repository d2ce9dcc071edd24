/**
 * One error vocabulary (issue 10 §3): the session's refusals each have their own code, mapped to
 * the contract's codes exhaustively; "not connected", "latched", "e-stop unconfirmed" and "journal
 * cannot open" no longer all read BAD_INPUT.
 */
import { describe, expect, it } from 'vitest';
import { CONTRACT_ERROR_CODES, ErrorSchema } from '../../../src/app/contract.js';
import { sessionFail } from '../../../src/app/service.js';
import type { SessionError, SessionErrorCode } from '../../../src/session/results.js';
import { refuse } from '../../../src/session/results.js';

type Simple = Exclude<SessionErrorCode, 'IllegalInState' | 'LimitExceeded' | 'Device'>;

const EXPECTED = {
  NotConnected: 'NOT_CONNECTED',
  Latched: 'LATCHED',
  EstopUnconfirmed: 'ESTOP_UNCONFIRMED',
  JournalUnavailable: 'STORAGE',
  NotCleared: 'SCREENING',
  ElectrodesNotReady: 'ILLEGAL_STATE',
  Incompatible: 'DEVICE',
  NoSession: 'ILLEGAL_STATE',
  Invalid: 'BAD_INPUT',
} as const satisfies Record<Simple, (typeof CONTRACT_ERROR_CODES)[number]>;

describe('the session error vocabulary, mapped to the contract', () => {
  it.each(Object.entries(EXPECTED))('%s -> %s, the message kept, a valid contract error', (code, contract) => {
    const refusal = refuse(code as Simple, `why ${code}`);
    const mapped = sessionFail(refusal.error);
    expect(mapped.error).toEqual({ code: contract, message: `why ${code}` });
    expect(ErrorSchema.safeParse(mapped.error).success).toBe(true);
  });

  it('uses only codes the contract declares', () => {
    expect(CONTRACT_ERROR_CODES).toEqual(expect.arrayContaining(Object.values(EXPECTED)));
  });

  it('gives the four the issue names four different codes, none of them BAD_INPUT', () => {
    const four = (['NotConnected', 'Latched', 'EstopUnconfirmed', 'JournalUnavailable'] as const).map((c) => sessionFail(refuse(c, 'x').error).error.code);
    expect(new Set(four).size).toBe(4);
    expect(four).not.toContain('BAD_INPUT');
  });

  it('maps the structured ones: a state, a limit with its fields, a device error', () => {
    const state: SessionError = { code: 'IllegalInState', action: 'start', state: 'running', message: 'cannot start while running' };
    expect(sessionFail(state).error).toEqual({ code: 'ILLEGAL_STATE', message: 'cannot start while running' });
    const limit: SessionError = { code: 'LimitExceeded', violations: [{ limit: 'amplitudeMaxMa', field: 'targetMa', value: 25, threshold: 20, unit: 'mA', source: 'S', message: 'above 20 mA' }] as never, message: 'refused: above 20 mA' };
    expect(sessionFail(limit).error).toEqual({ code: 'LIMIT', message: 'refused: above 20 mA', details: [{ path: 'targetMa', message: 'above 20 mA' }] });
    const device: SessionError = { code: 'Device', error: { code: 'NotConnected', verb: 'START' }, message: 'START needs a connected device' };
    expect(sessionFail(device).error.code).toBe('DEVICE');
  });

  it('answers an unknown code (a newer process on the other side) with INTERNAL naming it, never undefined', () => {
    expect(sessionFail({ code: 'FromTheFuture', message: 'x' } as unknown as SessionError).error).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/FromTheFuture/) as unknown });
  });
});
