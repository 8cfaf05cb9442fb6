/**
 * `grpc.testing.TestService`: the server side of the gRPC interop tests
 * (https://github.com/grpc/grpc/blob/master/doc/interop-test-descriptions.md).
 *
 * Implements the server features EmptyCall, UnaryCall, CacheableUnaryCall,
 * StreamingOutputCall, StreamingInputCall, FullDuplexCall, HalfDuplexCall,
 * Echo Status, Echo Metadata and ResponseParameters.interval_us.
 * `UnimplementedCall` is left out on purpose: the runtime answers
 * UNIMPLEMENTED for it. Compression: `expect_compressed` is checked with
 * `ctx.requestCompressed`, and `response_compressed` / `compressed` pick
 * each response's compression with `ctx.compressResponses()`.
 * @module
 */
import { type CallContext, defineService, RpcError, Status } from "svc";
import type {
  BoolValue,
  EchoStatus,
  PayloadInit,
  PayloadType,
  StreamingOutputCallRequest,
  TestServiceHandlers,
} from "./_types.ts";

/** Metadata echoed back as a response header (Echo Metadata). */
const ECHO_INITIAL = "x-grpc-test-echo-initial";
/** Metadata echoed back as a trailer (Echo Metadata). */
const ECHO_TRAILING = "x-grpc-test-echo-trailing-bin";

/** The only payload type the test protos define. */
const COMPRESSABLE = "COMPRESSABLE";

/** Echo Metadata: send the echo keys back as a header and a trailer. */
function echoMetadata(ctx: CallContext): void {
  const initial = ctx.metadata.get(ECHO_INITIAL);
  if (initial !== undefined) ctx.setHeader(ECHO_INITIAL, initial);
  const trailing = ctx.metadata.get(ECHO_TRAILING);
  if (trailing !== undefined) ctx.setTrailer(ECHO_TRAILING, trailing);
}

/** Echo Status: end the call with the requested status, if one other than OK was asked for. */
function echoStatus(status: EchoStatus | null | undefined): void {
  if (!status || !status.code) return;
  const code = status.code in Status ? status.code as Status : Status.UNKNOWN;
  throw new RpcError(code, status.message ?? "");
}

/**
 * `expect_compressed`: a request the client was asked to compress must have
 * been (client_compressed_unary, client_compressed_streaming). Not checkable
 * on the grpc-js transport (requestCompressed is null there).
 */
function expectCompressed(expect: BoolValue | null | undefined, ctx: CallContext): void {
  if (expect?.value && ctx.requestCompressed === false) {
    throw new RpcError(Status.INVALID_ARGUMENT, "expected a compressed request message");
  }
}

/** `response_compressed` / `compressed`: compress what follows, or not; unset keeps the default. */
function compressNext(compressed: BoolValue | null | undefined, ctx: CallContext): void {
  if (compressed) ctx.compressResponses(compressed.value);
}

/** A payload of `size` zero bytes. */
function payload(responseType: PayloadType | undefined, size: number): PayloadInit {
  if (responseType !== undefined && responseType !== COMPRESSABLE) {
    throw new RpcError(
      Status.INVALID_ARGUMENT,
      `response type "${responseType}" is not supported; use ${COMPRESSABLE}`,
    );
  }
  if (!Number.isInteger(size) || size < 0) {
    throw new RpcError(Status.INVALID_ARGUMENT, `response size ${size} is not a size`);
  }
  return { type: COMPRESSABLE, body: new Uint8Array(size) };
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The responses one StreamingOutputCallRequest asks for, observing `intervalUs`. */
async function* respond(req: StreamingOutputCallRequest, ctx: CallContext) {
  echoStatus(req.responseStatus);
  for (const params of req.responseParameters ?? []) {
    await sleep((params.intervalUs ?? 0) / 1000, ctx.signal);
    ctx.signal.throwIfAborted();
    compressNext(params.compressed, ctx);
    yield { payload: payload(req.responseType, params.size ?? 0) };
  }
}

// UnimplementedCall is left out on purpose, hence Partial.
export default defineService<Partial<TestServiceHandlers>>("grpc.testing.TestService", {
  /** One empty request, one empty response. */
  emptyCall(_req, ctx) {
    echoMetadata(ctx);
    return {};
  },

  /** A payload of the requested size, or the requested status. */
  unaryCall(req, ctx) {
    echoMetadata(ctx);
    expectCompressed(req.expectCompressed, ctx);
    compressNext(req.responseCompressed, ctx);
    echoStatus(req.responseStatus);
    return {
      payload: payload(req.responseType, req.responseSize ?? 0),
      ...(req.fillServerId ? { serverId: "svc" } : {}),
    };
  },

  /** A response that differs on every call, marked cacheable for 60 s. */
  cacheableUnaryCall(_req, ctx) {
    echoMetadata(ctx);
    ctx.setHeader("cache-control", "max-age=60, public");
    const now = `${BigInt(Date.now()) * 1_000_000n}`;
    return { payload: { type: COMPRESSABLE, body: new TextEncoder().encode(now) } };
  },

  /** One response per ResponseParameters, in order. */
  async *streamingOutputCall(req, ctx) {
    echoMetadata(ctx);
    yield* respond(req, ctx);
  },

  /** Adds up the payload sizes of every request. */
  async streamingInputCall(reqs, ctx) {
    echoMetadata(ctx);
    let aggregatedPayloadSize = 0;
    for await (const req of reqs) {
      ctx.signal.throwIfAborted();
      expectCompressed(req.expectCompressed, ctx);
      aggregatedPayloadSize += req.payload?.body?.length ?? 0;
    }
    return { aggregatedPayloadSize };
  },

  /** Answers each request as it arrives. */
  async *fullDuplexCall(reqs, ctx) {
    echoMetadata(ctx);
    for await (const req of reqs) {
      ctx.signal.throwIfAborted();
      yield* respond(req, ctx);
    }
  },

  /** Reads every request first, then answers them in order. */
  async *halfDuplexCall(reqs, ctx) {
    echoMetadata(ctx);
    const all: StreamingOutputCallRequest[] = [];
    for await (const req of reqs) {
      ctx.signal.throwIfAborted();
      all.push(req);
    }
    for (const req of all) yield* respond(req, ctx);
  },
});
