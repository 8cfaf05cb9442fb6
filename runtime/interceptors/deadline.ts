/**
 * Rejects calls whose deadline passed before their handler could start
 * (queued behind a rate limit or a slow interceptor), so no work is done
 * for an answer nobody will read.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { Interceptor } from "../core/interceptor.ts";

const EXPIRED = new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded before the call started");

/** The deadline interceptor. */
export const deadline: Interceptor = (next) =>
  function checkDeadline(call) {
    // Most calls carry no deadline: skip the clock read for them.
    if (call.deadline !== Infinity && call.deadline <= Date.now()) return Promise.reject(EXPIRED);
    return next(call);
  };
