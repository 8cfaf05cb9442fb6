/**
 * The per-method functions of a dependency's client, for all four call
 * kinds. Each call is one logical call: traced and observed once, run
 * through the client middleware once, and made of one or more attempts
 * (attempts.ts). Calls inherit a parent's deadline and cancellation and
 * fail with svc's `RpcError` carrying the remote code.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { CallParent, ClientCallOptions, ServiceClient } from "../core/clients.ts";
import type { MethodDescriptor } from "../protos/types.ts";
import { type Connection, encodeRequest, type Requests } from "./_call.ts";
import {
  bidiAttempt,
  clientStreamAttempt,
  serverStreamAttempts,
  unaryAttempts,
} from "./attempts.ts";
import { runChain, streamThroughChain } from "./chain.ts";
import { OutgoingCall } from "./outgoing_call.ts";

export type { Connection } from "./_call.ts";

/** Builds the method functions for `methods`, bound to `parent` when given. */
export function createServiceClient(
  conn: Connection,
  methods: readonly MethodDescriptor[],
  parent?: CallParent,
): ServiceClient {
  const client: ServiceClient = {};
  for (const method of methods) client[method.name] = _methodFunction(conn, method, parent);
  // lowerCamel aliases never shadow a proto name: with `Get` and `get`, each keeps its own.
  for (const method of methods) {
    const camel = method.name.charAt(0).toLowerCase() + method.name.slice(1);
    if (!Object.hasOwn(client, camel)) client[camel] = client[method.name];
  }
  return Object.freeze(client);
}

// --- private helpers ---------------------------------------------------------

function _methodFunction(conn: Connection, method: MethodDescriptor, parent?: CallParent) {
  switch (method.kind) {
    case "unary":
      return (req: unknown, o?: ClientCallOptions) => _unary(conn, method, parent, req, o);
    case "server_stream":
      return (req: unknown, o?: ClientCallOptions) => _serverStream(conn, method, parent, req, o);
    case "client_stream":
      return (reqs: Requests, o?: ClientCallOptions) =>
        _clientStream(conn, method, parent, reqs, o);
    case "bidi_stream":
      return (reqs: Requests, o?: ClientCallOptions) => _bidiStream(conn, method, parent, reqs, o);
  }
}

/** Creates the call (its span first, so time waiting for discovery counts) and observes it. */
function _begin(
  conn: Connection,
  method: MethodDescriptor,
  parent: CallParent | undefined,
  options: ClientCallOptions | undefined,
): OutgoingCall {
  const span = conn.tracer?.start(method, parent) ?? null;
  const call = new OutgoingCall(method, parent, options, conn.timeouts, span);
  conn.observer?.started(call);
  return call;
}

/** Ends the call's span and observation with the status the caller got. */
function _end(conn: Connection, call: OutgoingCall, code: number, message: string): void {
  call.span?.end(code, message);
  conn.observer?.finished(call, code, Date.now() - call.startedAt);
}

function _fail(conn: Connection, call: OutgoingCall, error: unknown): never {
  const rpc = RpcError.from(error);
  _end(conn, call, rpc.code, rpc.message);
  throw error;
}

async function _unary(
  conn: Connection,
  method: MethodDescriptor,
  parent: CallParent | undefined,
  request: unknown,
  options: ClientCallOptions | undefined,
): Promise<unknown> {
  const bytes = encodeRequest(method, request);
  const call = _begin(conn, method, parent, options);
  // Counted as go-grpc-prometheus does: the request when it goes out, the response when it arrives.
  const attempts = async (c: OutgoingCall) => {
    c.messagesSent = 1;
    const response = await unaryAttempts(conn, method, c, bytes);
    c.messagesReceived = 1;
    return response;
  };
  try {
    const chain = conn.middleware.chain;
    let response: unknown;
    if (chain === null) {
      response = await attempts(call);
    } else {
      await runChain(chain, call, async (c) => {
        response = await attempts(c);
      });
    }
    _end(conn, call, Status.OK, "");
    return response;
  } catch (error) {
    _fail(conn, call, error);
  }
}

async function _clientStream(
  conn: Connection,
  method: MethodDescriptor,
  parent: CallParent | undefined,
  requests: Requests,
  options: ClientCallOptions | undefined,
): Promise<unknown> {
  const call = _begin(conn, method, parent, options);
  try {
    const chain = conn.middleware.chain;
    let response: unknown;
    const attempt = async (c: OutgoingCall) => {
      const response = await clientStreamAttempt(conn, method, c, requests);
      c.messagesReceived = 1;
      return response;
    };
    if (chain === null) {
      response = await attempt(call);
    } else {
      await runChain(chain, call, async (c) => {
        response = await attempt(c);
      });
    }
    _end(conn, call, Status.OK, "");
    return response;
  } catch (error) {
    _fail(conn, call, error);
  }
}

function _serverStream(
  conn: Connection,
  method: MethodDescriptor,
  parent: CallParent | undefined,
  request: unknown,
  options: ClientCallOptions | undefined,
): AsyncGenerator<unknown> {
  return _streaming(conn, method, parent, options, (call) => {
    const bytes = encodeRequest(method, request);
    return () => {
      call.messagesSent = 1;
      return serverStreamAttempts(conn, method, call, bytes);
    };
  });
}

function _bidiStream(
  conn: Connection,
  method: MethodDescriptor,
  parent: CallParent | undefined,
  requests: Requests,
  options: ClientCallOptions | undefined,
): AsyncGenerator<unknown> {
  return _streaming(
    conn,
    method,
    parent,
    options,
    (call) => () => bidiAttempt(conn, method, call, requests),
  );
}

/**
 * A streaming call as the caller iterates it; nothing starts before the
 * first `next()`. A caller that stops reading early ends the call CANCELLED.
 */
async function* _streaming(
  conn: Connection,
  method: MethodDescriptor,
  parent: CallParent | undefined,
  options: ClientCallOptions | undefined,
  prepare: (call: OutgoingCall) => () => AsyncGenerator<unknown>,
): AsyncGenerator<unknown> {
  const call = _begin(conn, method, parent, options);
  let code: number = Status.CANCELLED;
  let message = "the caller stopped reading the responses";
  try {
    const source = prepare(call);
    const chain = conn.middleware.chain;
    yield* chain === null ? source() : streamThroughChain(chain, call, source);
    code = Status.OK;
    message = "";
  } catch (error) {
    const rpc = RpcError.from(error);
    code = rpc.code;
    message = rpc.message;
    throw error;
  } finally {
    _end(conn, call, code, message);
  }
}
