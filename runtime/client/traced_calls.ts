/**
 * Outgoing calls under a CLIENT span (when tracing is on): the span starts
 * before the instance is picked, so time waiting for discovery counts, and
 * ends with the status the caller got; a stream the caller stops reading
 * early ends CANCELLED, as the call itself does.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { OutgoingSpan } from "../core/clients.ts";

/** Runs a unary or client-streaming call under `span`. */
export async function tracedResponse<T>(span: OutgoingSpan, run: () => Promise<T>): Promise<T> {
  try {
    const response = await run();
    span.end(Status.OK, "");
    return response;
  } catch (error) {
    const rpc = RpcError.from(error);
    span.end(rpc.code, rpc.message);
    throw error;
  }
}

/** Passes a server-streaming or bidi call's responses through, ending `span` with the call. */
export async function* tracedStream<T>(
  span: OutgoingSpan,
  responses: AsyncGenerator<T>,
): AsyncGenerator<T> {
  let code: number = Status.CANCELLED;
  let message = "the caller stopped reading the responses";
  try {
    yield* responses;
    code = Status.OK;
    message = "";
  } catch (error) {
    const rpc = RpcError.from(error);
    code = rpc.code;
    message = rpc.message;
    throw error;
  } finally {
    span.end(code, message);
  }
}
