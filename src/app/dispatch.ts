/**
 * The one binding of the contract that every adapter uses (Electron IPC in electron/main, the
 * WebSocket host in src/web), so they cannot drift (after VS Code's ProxyChannel):
 *
 *   message --WireCallSchema--> {id, call, input} --parseInput--> handler(input) --> {id, result}
 *
 * A message that is not a call, an unknown call or a bad payload becomes a BAD_INPUT result that
 * names the field; a handler that throws (it should not) becomes INTERNAL. The returned promise
 * never rejects. With `validateOutput` (tests, `edn web --debug`) every result is also checked
 * against the call's output schema, and a mismatch becomes INTERNAL so the bug shows.
 *
 * The handler is invoked synchronously when the dispatcher is called (no await comes before it),
 * so an e-stop is passed on in the same tick it arrives.
 */
import type * as z from 'zod';
import { CALLS, CALL_NAMES, type CallName, type ContractError, ErrorSchema, type Result, WireCallSchema, type WireReply, parseInput } from './contract.js';
import type { ContractHandlers } from './service.js';

export type { WireReply } from './contract.js';

export interface DispatcherOptions {
  /** Check every result against the contract's output schema (tests and debug runs). Default false. */
  readonly validateOutput?: boolean;
  /** Told about every result that failed output validation (for a debug log). */
  readonly onInvalidOutput?: (call: CallName, problem: string) => void;
}

export type Dispatcher = (message: unknown) => Promise<WireReply>;

export function createDispatcher(handlers: ContractHandlers, options: DispatcherOptions = {}): Dispatcher {
  return async (message: unknown): Promise<WireReply> => {
    const id = salvageId(message);
    try {
      const wire = WireCallSchema.safeParse(message);
      if (!wire.success) return { id, result: badWire(message, wire.error) };
      const { call } = wire.data;
      const parsed = parseInput(call, wire.data.input);
      if (!parsed.ok) return { id, result: parsed };
      const handler = handlers[call] as (input: unknown) => Promise<Result<unknown>>;
      const result = await handler.call(handlers, parsed.data);
      return { id, result: options.validateOutput ? checkOutput(call, result, options.onInvalidOutput) : result };
    } catch (e) {
      return { id, result: { ok: false, error: { code: 'INTERNAL', message: `the call failed unexpectedly: ${e instanceof Error ? e.message : String(e)}` } } };
    }
  };
}

/** The id of a message that is not a valid call, when it has a usable one (so the reply still matches). */
export function salvageId(message: unknown): number | null {
  if (typeof message !== 'object' || message === null) return null;
  const id = (message as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

function badWire(message: unknown, error: z.ZodError): Result<never> {
  const call = typeof message === 'object' && message !== null ? (message as { call?: unknown }).call : undefined;
  if (typeof call === 'string' && !(CALL_NAMES as readonly string[]).includes(call)) {
    const shown = call.length > 64 ? `${call.slice(0, 64)}...` : call;
    return { ok: false, error: { code: 'BAD_INPUT', message: `unknown call "${shown}"`, details: [{ path: 'call', message: `not one of ${CALL_NAMES.join(', ')}` }] } };
  }
  const details = error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(message)', message: i.message }));
  return {
    ok: false,
    error: { code: 'BAD_INPUT', message: `not a call {id, call, input}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details },
  };
}

function checkOutput(call: CallName, result: unknown, report: DispatcherOptions['onInvalidOutput']): Result<unknown> {
  const problem = outputProblem(call, result);
  if (problem === undefined) return result as Result<unknown>;
  report?.(call, problem);
  const error: ContractError = { code: 'INTERNAL', message: `${call} returned a result outside the contract: ${problem}` };
  return { ok: false, error };
}

/** Why `result` is not a valid result of `call`, or undefined when it is. */
export function outputProblem(call: CallName, result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null || typeof (result as { ok?: unknown }).ok !== 'boolean') return 'not {ok, data} or {ok, error}';
  const r = result as { ok: boolean; data?: unknown; error?: unknown };
  const parsed = r.ok ? (CALLS[call].output as z.ZodType).safeParse(r.data) : ErrorSchema.safeParse(r.error);
  if (parsed.success) return undefined;
  return parsed.error.issues
    .slice(0, 5)
    .map((i) => `${[r.ok ? 'data' : 'error', ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}
