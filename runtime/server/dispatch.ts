/**
 * The call pipeline: decode, run the handler for its call kind, encode,
 * and end the call with the right status. One runner per method is built
 * at start-up, so the per-call path allocates little.
 * @module
 */
import { GO_CODE_NAMES, RpcError, Status } from "../errors.ts";
import type { MethodBinding } from "../handlers/mod.ts";
import type { Logger } from "../log/types.ts";
import { Metadata } from "../metadata.ts";
import { MessageShapeError, type MethodDescriptor } from "../protos/types.ts";
import type { TransportCall } from "../transport/types.ts";
import { ServerCallContext } from "./call_context.ts";

/** Runs one call to completion; never throws. */
export type CallRunner = (call: TransportCall) => Promise<void>;

/** What the pipeline needs besides the binding. */
export interface DispatchOptions {
  readonly log: Logger;
  readonly accessLog: boolean;
}

type Body = (call: TransportCall, ctx: ServerCallContext) => Promise<Uint8Array | undefined>;

/** Builds the runner for one method. */
export function createCallRunner(binding: MethodBinding, options: DispatchOptions): CallRunner {
  const { method } = binding;
  const { log, accessLog } = options;
  const body = binding.handler ? createBody(method, binding.handler, log) : null;
  const unimplemented = new RpcError(
    Status.UNIMPLEMENTED,
    `method ${method.path} is not implemented by this server`,
  );

  return async function runCall(call) {
    const started = accessLog ? performance.now() : 0;
    const ctx = new ServerCallContext(call, log);
    let code: Status = Status.OK;
    try {
      if (!body) throw unimplemented;
      const response = await body(call, ctx);
      ctx.flushHeaders();
      call.end({ code: Status.OK, message: "", trailers: ctx.trailers }, response);
    } catch (thrown) {
      const error = toRpcError(thrown, call, ctx, method);
      code = error.code;
      ctx.flushHeaders();
      call.end({ code, message: error.message, trailers: trailersOf(ctx, error) });
    }
    if (accessLog) {
      log.info("call", {
        method: method.path,
        code: GO_CODE_NAMES[code],
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        peer: call.peer,
      });
    }
  };
}

function createBody(
  method: MethodDescriptor,
  handler: (...args: never[]) => unknown,
  log: Logger,
): Body {
  const fn = handler as (request: unknown, ctx: ServerCallContext) => unknown;
  const encode = (value: unknown) => encodeResponse(method, value);
  switch (method.kind) {
    case "unary":
      return async (call, ctx) => encode(await fn(decodeRequest(method, call.request!), ctx));
    case "client_stream":
      return async (call, ctx) => encode(await fn(decodeStream(method, call), ctx));
    case "server_stream":
      return (call, ctx) =>
        sendStream(call, ctx, fn(decodeRequest(method, call.request!), ctx), encode, log);
    case "bidi_stream":
      return (call, ctx) => sendStream(call, ctx, fn(decodeStream(method, call), ctx), encode, log);
  }
}

async function sendStream(
  call: TransportCall,
  ctx: ServerCallContext,
  output: unknown,
  encode: (value: unknown) => Uint8Array,
  _log: Logger,
): Promise<undefined> {
  if (!isIterable(output)) {
    throw new HandlerContractError(
      `a streaming handler must be an async generator or return an iterable, got ${typeof output}`,
    );
  }
  for await (const message of output) {
    if (call.signal.aborted) break;
    ctx.flushHeaders();
    const backpressure = call.write(encode(message));
    if (backpressure) await backpressure;
  }
  call.signal.throwIfAborted();
  return undefined;
}

function decodeRequest(method: MethodDescriptor, bytes: Uint8Array): unknown {
  try {
    return method.decodeRequest(bytes);
  } catch (error) {
    throw new RpcError(Status.INTERNAL, `cannot decode request as ${method.requestType}`, {
      cause: error,
    });
  }
}

async function* decodeStream(
  method: MethodDescriptor,
  call: TransportCall,
): AsyncGenerator<unknown> {
  for await (const bytes of call.requests()) yield decodeRequest(method, bytes);
}

function encodeResponse(method: MethodDescriptor, value: unknown): Uint8Array {
  if (value === undefined && method.responseType !== "google.protobuf.Empty") {
    throw new HandlerContractError(
      `the handler returned undefined; ${method.path} must return a ${method.responseType}`,
    );
  }
  return method.encodeResponse(value ?? {});
}

/** A handler broke the contract (bad return value); logged, answered INTERNAL. */
class HandlerContractError extends Error {
  override readonly name = "HandlerContractError";
}

function toRpcError(
  thrown: unknown,
  call: TransportCall,
  ctx: ServerCallContext,
  method: MethodDescriptor,
): RpcError {
  if (thrown instanceof RpcError) {
    if (thrown.code === Status.INTERNAL && thrown.cause !== undefined) {
      ctx.log.error("call failed", { code: "Internal", error: thrown.cause });
    }
    return thrown;
  }
  if (call.signal.aborted) {
    // The client is gone or the deadline passed; the transport already
    // told the client. Report CANCELLED for the access log.
    return new RpcError(Status.CANCELLED, "call cancelled");
  }
  if (thrown instanceof MessageShapeError) {
    ctx.log.error("response does not fit the response type", {
      type: method.responseType,
      field: thrown.field,
      error: thrown.message,
    });
  } else if (thrown instanceof HandlerContractError) {
    ctx.log.error("handler broke its contract", { error: thrown.message });
  } else {
    ctx.log.error("handler threw", { error: thrown });
  }
  return new RpcError(Status.INTERNAL, "internal error");
}

function trailersOf(ctx: ServerCallContext, error: RpcError): Metadata | null {
  const extra = Object.keys(error.metadata).length > 0 ? Metadata.from(error.metadata) : null;
  if (!extra) return ctx.trailers;
  if (!ctx.trailers) return extra;
  for (const [key, values] of extra.entries()) for (const v of values) ctx.trailers.add(key, v);
  return ctx.trailers;
}

function isIterable(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  return value !== null && typeof value === "object" &&
    (Symbol.asyncIterator in value || Symbol.iterator in value);
}
