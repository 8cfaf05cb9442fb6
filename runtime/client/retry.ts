/**
 * Whether and when a failed attempt is tried again (gRFC A6): the method
 * must have a retry policy whose codes include the failure, attempts must
 * remain, retry throttling must have tokens to spare, the server must not
 * have said stop (`grpc-retry-pushback-ms`), and the wait must end before
 * the call's deadline. Also the breaker's local rejection, which is never
 * retried: it is the breaker's point that no attempt goes out.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { Connection } from "./_call.ts";
import type { OutgoingCall } from "./outgoing_call.ts";
import { pushbackMs, retryDelayMs, type RetryPolicy } from "./retry_policy.ts";

/** The server's pushback trailer (gRFC A6). */
const PUSHBACK = "grpc-retry-pushback-ms";

/**
 * The delay before the next attempt, or null when `error` ends the call.
 * Takes a retry token for a retryable failure, as A6 counts them.
 */
export function retryDelay(
  conn: Connection,
  policy: RetryPolicy | null,
  error: RpcError,
  call: OutgoingCall,
): number | null {
  if (policy === null || !policy.retryableCodes.has(error.code)) return null;
  const allowed = conn.throttle.onFailure();
  if (call.attempts >= policy.maxAttempts || call.signal?.aborted) return null;
  if (!allowed) {
    conn.throttle.noteThrottled();
    conn.log.debug("client: retry throttled", { method: call.method, peer: call.peer });
    return null;
  }
  const pushback = pushbackMs(_trailer(error, PUSHBACK));
  if (pushback === "stop") return null;
  const delay = pushback ?? retryDelayMs(policy, call.attempts);
  if (Date.now() + delay >= call.deadline) return null;
  return delay;
}

/** Throws UNAVAILABLE without a network round trip when the breaker sheds this attempt. */
export function admit(conn: Connection, call: OutgoingCall): void {
  const breaker = conn.breaker;
  if (breaker === null || breaker.allow()) return;
  throw new RpcError(
    Status.UNAVAILABLE,
    `circuit breaker for ${conn.service} rejected ${call.method} locally: the dependency is failing ` +
      `(${Math.round(breaker.dropRatio * 100)}% of calls shed)`,
  );
}

/** Waits `ms`, or less when the call is cancelled (the next attempt then fails CANCELLED). */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A trailer of the grpc-js error behind `error` (`cause.metadata`), if any. */
function _trailer(error: RpcError, key: string): unknown {
  const metadata = (error.cause as { metadata?: { get(key: string): unknown[] } } | undefined)
    ?.metadata;
  if (typeof metadata?.get !== "function") return undefined;
  const values = metadata.get(key);
  return values.length === 0 ? undefined : values;
}
