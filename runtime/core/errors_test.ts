import assert from "node:assert/strict";
import { RpcError, Status } from "./errors.ts";

Deno.test("RpcError.from() passes an RpcError through", () => {
  const error = new RpcError(Status.NOT_FOUND, "no such user");
  assert.equal(RpcError.from(error), error);
  assert.equal(RpcError.from(error, { signal: AbortSignal.abort(), deadline: 0 }), error);
});

Deno.test("RpcError.from() maps anything else to INTERNAL, keeping the cause", () => {
  const cause = new TypeError("x is undefined");
  const error = RpcError.from(cause);
  assert.equal(error.code, Status.INTERNAL);
  assert.equal(error.message, "internal error");
  assert.equal(error.cause, cause);
});

Deno.test("RpcError.from() without a call maps an AbortError to CANCELLED", () => {
  const error = RpcError.from(new DOMException("aborted", "AbortError"));
  assert.equal(error.code, Status.CANCELLED);
});

Deno.test("RpcError.from() in a cancelled call: DEADLINE_EXCEEDED past the deadline, else CANCELLED", () => {
  const signal = AbortSignal.abort();
  const thrown = new DOMException("aborted", "AbortError");
  assert.equal(
    RpcError.from(thrown, { signal, deadline: Date.now() - 1 }).code,
    Status.DEADLINE_EXCEEDED,
  );
  assert.equal(RpcError.from(thrown, { signal, deadline: Infinity }).code, Status.CANCELLED);
});

Deno.test("RpcError.from() in a live call treats the handler's own AbortError as a failure", () => {
  const live = { signal: new AbortController().signal, deadline: Infinity };
  const error = RpcError.from(new DOMException("aborted", "AbortError"), live);
  assert.equal(error.code, Status.INTERNAL);
});
