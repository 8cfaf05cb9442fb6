/**
 * How anything a call throws becomes the status the client sees.
 * @module
 */
import { RpcError, Status } from "../errors.ts";

/** A handler broke the runtime's contract (e.g. returned nothing); answered INTERNAL. */
export class HandlerContractError extends Error {
  override readonly name = "HandlerContractError";
}

const INTERNAL = new RpcError(Status.INTERNAL, "internal error");
const CANCELLED = new RpcError(Status.CANCELLED, "call cancelled");
const DEADLINE = new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded");

/**
 * The status for `thrown`: an RpcError as it is; once the call's signal has
 * aborted, DEADLINE_EXCEEDED or CANCELLED; anything else INTERNAL with a
 * generic message, so no internals reach the client.
 */
export function toRpcError(thrown: unknown, signal: AbortSignal, deadline: number): RpcError {
  if (thrown instanceof RpcError) return thrown;
  if (signal.aborted) return deadline <= Date.now() ? DEADLINE : CANCELLED;
  return INTERNAL;
}
