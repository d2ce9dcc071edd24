/**
 * The one Result shape of the in-process layers (issue 10 §3): a value, or an error of a kind the
 * layer names. Errors are values: a refusal is returned, never thrown. The device layer's
 * `Result<T>` (src/device/errors.ts), the session's `SessionResult<T>` (src/session/results.ts)
 * and the course store's `Result<T>` (src/course/store.ts) are this with their own error type.
 *
 * The contract's `Result<T>` (src/app/contract.ts) is a wire format, `{ ok, data }` or
 * `{ ok: false, error: ContractError }`, validated by zod at every process boundary; it stays as it
 * is, and `sessionFail` (src/app/service.ts) maps the session's errors onto it exhaustively.
 */
export type Result<T, E> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
