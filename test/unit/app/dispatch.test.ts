import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLS, CALL_NAMES, type CallName, type Result, WireReplySchema } from '../../../src/app/contract.js';
import { createDispatcher } from '../../../src/app/dispatch.js';
import type { ContractHandlers } from '../../../src/app/service.js';
import { serviceHarness, type ServiceHarness } from './service-harness.js';

let open: ServiceHarness[] = [];
afterEach(async () => {
  for (const h of open) await h.dispose();
  open = [];
});

/** Handlers that answer every call with ok(null) and count the calls that reached them. */
function stubHandlers(reached: CallName[] = []): ContractHandlers {
  return Object.fromEntries(
    CALL_NAMES.map((name) => [
      name,
      (): Promise<Result<null>> => {
        reached.push(name);
        return Promise.resolve({ ok: true, data: null });
      },
    ]),
  ) as unknown as ContractHandlers;
}

describe('dispatcher: bad payloads', () => {
  it('every call refuses a garbage input as BAD_INPUT naming the field, before the service sees it', async () => {
    const h = serviceHarness();
    open.push(h);
    for (const call of CALL_NAMES) {
      const reply = await h.dispatch({ id: 7, call, input: { bogus: 1 } });
      expect(reply.id, call).toBe(7);
      expect(reply.result.ok, call).toBe(false);
      if (reply.result.ok) continue;
      expect(reply.result.error.code, call).toBe('BAD_INPUT');
      expect(reply.result.error.message, call).toContain('bogus');
      expect(reply.result.error.message.startsWith(`${call}:`), call).toBe(true);

      // Each field with a value of the wrong type is named in the details.
      const shape = (CALLS[call].input as unknown as { shape: Record<string, { safeParse(x: unknown): { success: boolean } }> }).shape;
      for (const [field, schema] of Object.entries(shape)) {
        const wrong = [{ nested: true }, 'text', -1].find((v) => !schema.safeParse(v).success);
        if (wrong === undefined) continue; // z.unknown(): the service validates it (see service.test.ts)
        const r = await h.dispatch({ id: 8, call, input: { [field]: wrong } });
        expect(r.result.ok, `${call}.${field}`).toBe(false);
        if (!r.result.ok) {
          expect(r.result.error.code).toBe('BAD_INPUT');
          expect(r.result.error.details?.map((d) => d.path), `${call}.${field}`).toContain(field);
        }
      }
    }
    // Nothing reached the device: still idle.
    expect(h.service.snapshot.state).toBe('idle');
  });

  it('refuses what is not a call, and unknown calls, keeping the id when there is one', async () => {
    const reached: CallName[] = [];
    const dispatch = createDispatcher(stubHandlers(reached));
    expect(await dispatch('listPorts')).toMatchObject({ id: null, result: { ok: false, error: { code: 'BAD_INPUT' } } });
    expect(await dispatch(null)).toMatchObject({ id: null, result: { ok: false, error: { code: 'BAD_INPUT' } } });
    expect(await dispatch({ call: 'listPorts', input: {} })).toMatchObject({ id: null, result: { ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'id' }] } } });
    expect(await dispatch({ id: 3, call: 'formatDisk', input: {} })).toMatchObject({
      id: 3,
      result: { ok: false, error: { code: 'BAD_INPUT', message: 'unknown call "formatDisk"' } },
    });
    expect(await dispatch({ id: 4, call: 'toString', input: {} })).toMatchObject({ id: 4, result: { ok: false, error: { code: 'BAD_INPUT' } } });
    expect(await dispatch({ id: 5, call: 'listPorts', input: {}, extra: 1 })).toMatchObject({ id: 5, result: { ok: false, error: { code: 'BAD_INPUT' } } });
    expect(reached).toEqual([]);
    // The input is required on the wire ({} for calls without one); null stands for {}.
    expect(await dispatch({ id: 6, call: 'listPorts' })).toMatchObject({ id: 6, result: { ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'input' }] } } });
    expect(await dispatch({ id: 6, call: 'listPorts', input: null })).toEqual({ id: 6, result: { ok: true, data: null } });
    expect(reached).toEqual(['listPorts']);
  });

  it('a handler that throws becomes INTERNAL; with output validation a result outside the contract does too', async () => {
    const throwing = { ...stubHandlers(), listPorts: () => Promise.reject(new Error('boom')) } as unknown as ContractHandlers;
    expect(await createDispatcher(throwing)({ id: 1, call: 'listPorts', input: {} })).toEqual({
      id: 1,
      result: { ok: false, error: { code: 'INTERNAL', message: 'the call failed unexpectedly: boom' } },
    });
    const problems: string[] = [];
    const dispatch = createDispatcher(stubHandlers(), { validateOutput: true, onInvalidOutput: (call, p) => problems.push(`${call}: ${p}`) });
    // listPorts must return an array, not null.
    const r = await dispatch({ id: 2, call: 'listPorts', input: {} });
    expect(r).toMatchObject({ id: 2, result: { ok: false, error: { code: 'INTERNAL' } } });
    expect(problems).toHaveLength(1);
    expect(await dispatch({ id: 3, call: 'pause', input: {} })).toEqual({ id: 3, result: { ok: true, data: null } });
  });
});

describe('dispatcher: never throws (property)', () => {
  const dispatch = createDispatcher(stubHandlers(), { validateOutput: true });

  it('answers any value with a well-formed reply', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), async (message) => {
        const reply = await dispatch(message);
        expect(WireReplySchema.safeParse(reply).success).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('answers call-shaped messages with any input with a well-formed reply', async () => {
    const message = fc.record(
      {
        id: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.string()),
        call: fc.oneof(fc.constantFrom(...CALL_NAMES), fc.string(), fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty')),
        input: fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom('path', 'id', 'file', 'targetMa', 'deltaMa', 'channel', 'source', 'text', 'clinician', 'usbIds', 'format'), fc.anything())),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const reply = await dispatch(m);
        expect(WireReplySchema.safeParse(reply).success).toBe(true);
        if (typeof m.id === 'number' && Number.isSafeInteger(m.id) && m.id >= 0) expect(reply.id).toBe(m.id);
      }),
      { numRuns: 1000 },
    );
  });
});
