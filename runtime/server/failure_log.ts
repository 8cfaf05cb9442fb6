/**
 * The error line of a failed call. A flood of bad calls must not become a
 * flood of log: a client can send undecodable requests, or call a method
 * whose handler throws, as fast as the server answers, and each used to
 * write a line of 0.4–1.5 KB (issue 19 measured a 30x amplifier). So lines
 * are limited per method and reason (a burst of {@link BURST}, then
 * {@link PER_SECOND} a second); the next line written says how many like it
 * were left out. Client data is never quoted beyond {@link MAX_DETAIL} chars.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { ServerCall } from "../core/context.ts";
import { MessageShapeError } from "../protos/types.ts";
import { DecodeBudgetError } from "../protos/decode_cost.ts";
import { TokenBucket } from "../util/token_bucket.ts";

/** Lines per method and reason written at once before the rate applies. */
const BURST = 10;
/** Lines per method and reason a second after the burst. */
const PER_SECOND = 1;
/** Longest error text taken from a decoder, as it may echo request bytes. */
const MAX_DETAIL = 200;

/** A handler broke the runtime's contract (e.g. returned nothing); answered INTERNAL. */
export class HandlerContractError extends Error {
  override readonly name = "HandlerContractError";
}

/** The request could not be decoded: the client's mistake, not a failure of the handler. */
export class RequestDecodeError extends RpcError {
  constructor(type: string, cause: unknown) {
    super(Status.INTERNAL, `cannot decode request as ${type}`, { cause });
  }
}

interface Reason {
  readonly bucket: TokenBucket;
  suppressed: number;
}

/** One method's failure lines; see the module doc. */
export class FailureLog {
  readonly #reasons = new Map<string, Reason>();

  /** Logs why `ctx`'s call failed with `code`, unless lines like it are over their rate. */
  write(ctx: ServerCall, thrown: unknown, code: Status): void {
    // Cancellation and deadlines are the client's doing, not a failure here.
    if (code === Status.CANCELLED || code === Status.DEADLINE_EXCEEDED) return;
    const [reason, message, fields] = describe(thrown);
    const limit = this.#reasons.get(reason) ??
      this.#reasons.set(reason, { bucket: new TokenBucket(PER_SECOND, BURST), suppressed: 0 })
        .get(reason)!;
    if (!limit.bucket.tryTake()) {
      limit.suppressed++;
      return;
    }
    if (limit.suppressed > 0) {
      fields.suppressed = limit.suppressed;
      limit.suppressed = 0;
    }
    ctx.log.error(message, fields);
  }
}

function describe(
  thrown: unknown,
): [reason: string, message: string, fields: Record<string, unknown>] {
  if (thrown instanceof RequestDecodeError) {
    return ["decode", "request could not be decoded", {
      type: thrown.message.slice("cannot decode request as ".length),
      error: detail(thrown.cause),
    }];
  }
  if (thrown instanceof RpcError && thrown.cause instanceof DecodeBudgetError) {
    const { field, count, estimate } = thrown.cause;
    return ["budget", "request over its decode budget", {
      field,
      elements: count,
      estimateBytes: Math.round(estimate),
    }];
  }
  if (thrown instanceof MessageShapeError) {
    return ["shape", "response does not fit its type", {
      field: thrown.field,
      error: thrown.message,
    }];
  }
  if (thrown instanceof HandlerContractError) {
    return ["contract", "handler broke its contract", { error: thrown.message }];
  }
  const cause = thrown instanceof RpcError ? thrown.cause : thrown;
  return ["failed", "call failed", { error: cause ?? thrown }];
}

/** A decoder's message, bounded; never its stack (protobufjs internals). */
function detail(error: unknown): string {
  try {
    const text = error instanceof Error ? error.message : String(error);
    return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
  } catch {
    return "unreadable error";
  }
}
