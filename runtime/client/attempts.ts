/**
 * The attempts under one logical call, one function per call kind: pick an
 * instance, pass the breaker, run the grpc-js call, and on a retryable
 * failure wait and try again (another instance first). Unary calls retry;
 * server streams retry only before their first response, so nothing the
 * caller has seen is repeated; client and bidi streams never retry, since
 * their requests are an iterator that cannot be replayed.
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type { Buffer } from "node:buffer";
import type { MethodDescriptor } from "../protos/types.ts";
import type { Instance } from "./balancer.ts";
import {
  type Connection,
  decoder,
  fromGrpcError,
  grpcOptions,
  passThrough,
  pickInstance,
  pumpRequests,
  type Requests,
  startCall,
} from "./_call.ts";
import type { OutgoingCall } from "./outgoing_call.ts";
import { admit, pause, retryDelay } from "./retry.ts";

/** A unary call's response, after as many attempts as its retry policy allows. */
export async function unaryAttempts(
  conn: Connection,
  method: MethodDescriptor,
  call: OutgoingCall,
  bytes: Buffer,
): Promise<unknown> {
  const policy = conn.retryPolicies.get(method.path) ?? null;
  let avoid: Instance | undefined;
  for (;;) {
    const instance = await pickInstance(conn, method, call, avoid);
    admit(conn, call);
    try {
      return await new Promise((resolve, reject) => {
        startCall(conn, instance, call, (onEnd) =>
          instance.client.makeUnaryRequest(
            method.path,
            passThrough,
            decoder(method),
            bytes,
            call.grpcMetadata(),
            grpcOptions(call),
            (error, response) => {
              onEnd(error);
              error ? reject(fromGrpcError(error, call)) : resolve(response);
            },
          ));
      });
    } catch (error) {
      const delay = retryDelay(conn, policy, fromGrpcError(error, call), call);
      if (delay === null) throw error;
      conn.log.debug("client: retrying", { method: method.path, from: instance.address, delay });
      await pause(delay, call.signal);
      conn.counters.retries++;
      avoid = instance;
    }
  }
}

/** A server stream's responses; a failure before the first one is retried like a unary call. */
export async function* serverStreamAttempts(
  conn: Connection,
  method: MethodDescriptor,
  call: OutgoingCall,
  bytes: Buffer,
): AsyncGenerator<unknown> {
  const policy = conn.retryPolicies.get(method.path) ?? null;
  let avoid: Instance | undefined;
  for (;;) {
    const instance = await pickInstance(conn, method, call, avoid);
    admit(conn, call);
    let received = 0;
    const stream = startCall(conn, instance, call, (onEnd) => {
      const s = instance.client.makeServerStreamRequest(
        method.path,
        passThrough,
        decoder(method),
        bytes,
        call.grpcMetadata(),
        grpcOptions(call),
      );
      s.on("status", (status: grpc.StatusObject) => onEnd(status.code === 0 ? null : status));
      return s;
    });
    let delay = 0;
    try {
      for await (const message of stream) {
        received++;
        call.messagesReceived++;
        yield message;
      }
      return;
    } catch (error) {
      const rpc = fromGrpcError(error, call);
      // Only before the first message: a retry must not repeat what was yielded.
      const retryIn = received > 0 ? null : retryDelay(conn, policy, rpc, call);
      if (retryIn === null) throw rpc;
      delay = retryIn;
    } finally {
      stream.cancel();
    }
    await pause(delay, call.signal);
    conn.counters.retries++;
    avoid = instance;
  }
}

/** A client stream's response: one attempt. */
export async function clientStreamAttempt(
  conn: Connection,
  method: MethodDescriptor,
  call: OutgoingCall,
  requests: Requests,
): Promise<unknown> {
  const instance = await pickInstance(conn, method, call);
  admit(conn, call);
  let pumpError: unknown = null;
  let stream!: grpc.ClientWritableStream<Buffer>;
  const result = new Promise((resolve, reject) => {
    stream = startCall(conn, instance, call, (onEnd) =>
      instance.client.makeClientStreamRequest(
        method.path,
        passThrough,
        decoder(method),
        call.grpcMetadata(),
        grpcOptions(call),
        (error, response) => {
          onEnd(error);
          error ? reject(error) : resolve(response);
        },
      ));
  });
  pumpRequests(stream, requests, call, method, result.then(() => {}, () => {})).catch((error) => {
    pumpError = error;
    stream.cancel();
  });
  try {
    return await result;
  } catch (error) {
    throw pumpError ?? fromGrpcError(error, call);
  }
}

/** A bidi stream's responses: one attempt. */
export async function* bidiAttempt(
  conn: Connection,
  method: MethodDescriptor,
  call: OutgoingCall,
  requests: Requests,
): AsyncGenerator<unknown> {
  const instance = await pickInstance(conn, method, call);
  admit(conn, call);
  let pumpError: unknown = null;
  let ended!: Promise<void>;
  const stream = startCall(conn, instance, call, (onEnd) => {
    const s = instance.client.makeBidiStreamRequest(
      method.path,
      passThrough,
      decoder(method),
      call.grpcMetadata(),
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
  pumpRequests(stream, requests, call, method, ended).catch((error) => {
    pumpError = error;
    stream.cancel();
  });
  try {
    for await (const message of stream) {
      call.messagesReceived++;
      yield message;
    }
  } catch (error) {
    throw pumpError ?? fromGrpcError(error, call);
  } finally {
    stream.cancel();
  }
}
