/**
 * The per-method functions of a dependency's client, for all four call
 * kinds, on grpc-js client channels with the runtime's codecs. Calls inherit
 * a parent's deadline and cancellation, fail over once on UNAVAILABLE for
 * idempotent methods, and fail with svc's `RpcError` carrying the remote code.
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { Buffer } from "node:buffer";
import type {
  CallParent,
  ClientCallOptions,
  OutgoingTracer,
  ServiceClient,
} from "../core/clients.ts";
import { tracedResponse, tracedStream } from "./traced_calls.ts";
import type { MethodDescriptor } from "../protos/types.ts";
import type { Instance } from "./balancer.ts";
import {
  type Call,
  type Connection,
  decoder,
  encodeRequest,
  fromGrpcError,
  grpcOptions,
  passThrough,
  pickInstance,
  prepareCall,
  pumpRequests,
  type Requests,
  retryable,
  startCall,
} from "./_call.ts";

export type { Connection } from "./_call.ts";

/** Builds the method functions for `methods`, bound to `parent` when given. */
export function createServiceClient(
  conn: Connection,
  methods: readonly MethodDescriptor[],
  parent?: CallParent,
): ServiceClient {
  const client: ServiceClient = {};
  for (const method of methods) {
    const call = _methodFunction(conn, method, parent);
    client[method.name] = call;
    client[method.name.charAt(0).toLowerCase() + method.name.slice(1)] = call;
  }
  return Object.freeze(client);
}

// --- private helpers ---------------------------------------------------------

function _methodFunction(conn: Connection, method: MethodDescriptor, parent?: CallParent) {
  const tracer = conn.tracer;
  if (tracer) return _tracedMethodFunction(conn, method, tracer, parent);
  switch (method.kind) {
    case "unary":
      return (req: unknown, o?: ClientCallOptions) =>
        _unary(conn, method, prepareCall(parent, o), req);
    case "server_stream":
      return (req: unknown, o?: ClientCallOptions) =>
        _serverStream(conn, method, () => prepareCall(parent, o), req);
    case "client_stream":
      return (reqs: Requests, o?: ClientCallOptions) =>
        _clientStream(conn, method, prepareCall(parent, o), reqs);
    case "bidi_stream":
      return (reqs: Requests, o?: ClientCallOptions) =>
        _bidiStream(conn, method, () => prepareCall(parent, o), reqs);
  }
}

function _tracedMethodFunction(
  conn: Connection,
  method: MethodDescriptor,
  tracer: OutgoingTracer,
  parent?: CallParent,
) {
  const start = () => tracer.start(method, parent);
  switch (method.kind) {
    case "unary":
      return (req: unknown, o?: ClientCallOptions) => {
        const span = start();
        return tracedResponse(span, () => _unary(conn, method, prepareCall(parent, o, span), req));
      };
    case "server_stream":
      return (req: unknown, o?: ClientCallOptions) => {
        const span = start();
        return tracedStream(
          span,
          _serverStream(conn, method, () => prepareCall(parent, o, span), req),
        );
      };
    case "client_stream":
      return (reqs: Requests, o?: ClientCallOptions) => {
        const span = start();
        return tracedResponse(
          span,
          () => _clientStream(conn, method, prepareCall(parent, o, span), reqs),
        );
      };
    case "bidi_stream":
      return (reqs: Requests, o?: ClientCallOptions) => {
        const span = start();
        return tracedStream(
          span,
          _bidiStream(conn, method, () => prepareCall(parent, o, span), reqs),
        );
      };
  }
}

async function _unary(conn: Connection, method: MethodDescriptor, call: Call, request: unknown) {
  const bytes = encodeRequest(method, request);
  let avoid: Instance | undefined;
  for (let attempt = 1;; attempt++) {
    const instance = await pickInstance(conn, method, call, avoid);
    try {
      return await new Promise((resolve, reject) => {
        startCall(conn, instance, call, (onEnd) =>
          instance.client.makeUnaryRequest(
            method.path,
            passThrough,
            decoder(method),
            bytes,
            call.metadata,
            grpcOptions(call),
            (error, response) => {
              onEnd(error);
              error ? reject(fromGrpcError(error, call)) : resolve(response);
            },
          ));
      });
    } catch (error) {
      if (!retryable(error, method, call, attempt)) throw error;
      conn.log.debug("discovery: retrying on another instance", {
        method: method.path,
        from: instance.address,
      });
      avoid = instance;
    }
  }
}

async function* _serverStream(
  conn: Connection,
  method: MethodDescriptor,
  prepare: () => Call,
  request: unknown,
): AsyncGenerator<unknown> {
  const call = prepare();
  const bytes = encodeRequest(method, request);
  let avoid: Instance | undefined;
  for (let attempt = 1;; attempt++) {
    const instance = await pickInstance(conn, method, call, avoid);
    let received = 0;
    const stream = startCall(conn, instance, call, (onEnd) => {
      const s = instance.client.makeServerStreamRequest(
        method.path,
        passThrough,
        decoder(method),
        bytes,
        call.metadata,
        grpcOptions(call),
      );
      s.on("status", (status: grpc.StatusObject) => onEnd(status.code === 0 ? null : status));
      return s;
    });
    try {
      for await (const message of stream) {
        received++;
        yield message;
      }
      return;
    } catch (error) {
      const rpc = fromGrpcError(error, call);
      // Only before the first message: a retry must not repeat what was yielded.
      if (received > 0 || !retryable(rpc, method, call, attempt)) throw rpc;
      avoid = instance;
    } finally {
      stream.cancel();
    }
  }
}

async function _clientStream(
  conn: Connection,
  method: MethodDescriptor,
  call: Call,
  requests: Requests,
): Promise<unknown> {
  const instance = await pickInstance(conn, method, call);
  let pumpError: unknown = null;
  let stream!: grpc.ClientWritableStream<Buffer>;
  const result = new Promise((resolve, reject) => {
    stream = startCall(conn, instance, call, (onEnd) =>
      instance.client.makeClientStreamRequest(
        method.path,
        passThrough,
        decoder(method),
        call.metadata,
        grpcOptions(call),
        (error, response) => {
          onEnd(error);
          error ? reject(error) : resolve(response);
        },
      ));
  });
  pumpRequests(stream, requests, method, result.then(() => {}, () => {})).catch((error) => {
    pumpError = error;
    stream.cancel();
  });
  try {
    return await result;
  } catch (error) {
    throw pumpError ?? fromGrpcError(error, call);
  }
}

async function* _bidiStream(
  conn: Connection,
  method: MethodDescriptor,
  prepare: () => Call,
  requests: Requests,
): AsyncGenerator<unknown> {
  const call = prepare();
  const instance = await pickInstance(conn, method, call);
  let pumpError: unknown = null;
  let ended!: Promise<void>;
  const stream = startCall(conn, instance, call, (onEnd) => {
    const s = instance.client.makeBidiStreamRequest(
      method.path,
      passThrough,
      decoder(method),
      call.metadata,
      grpcOptions(call),
    );
    ended = new Promise((resolve) =>
      s.on("status", (status: grpc.StatusObject) => {
        onEnd(status.code === 0 ? null : status);
        resolve();
      })
    );
    return s;
  });
  pumpRequests(stream, requests, method, ended).catch((error) => {
    pumpError = error;
    stream.cancel();
  });
  try {
    for await (const message of stream) yield message;
  } catch (error) {
    throw pumpError ?? fromGrpcError(error, call);
  } finally {
    stream.cancel();
  }
}
