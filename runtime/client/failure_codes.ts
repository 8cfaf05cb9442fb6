/**
 * Which status codes say that a dependency failed, as opposed to the
 * caller: what the circuit breaker and outlier ejection count. A caller's
 * mistake (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, ...) or its own
 * cancellation says nothing about the instance's health, so it must not
 * open a breaker or eject an instance; a server that is down, overloaded,
 * too slow or crashing does. The set follows go-zero's breaker
 * (`Acceptable`), without UNIMPLEMENTED, which is a deploy mismatch that
 * retries and rejections cannot heal.
 * @module
 */
import { Status } from "../core/errors.ts";

const _FAILURES: ReadonlySet<number> = new Set([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

/** True when `code` counts against the dependency (breaker) or instance (outlier ejection). */
export function isDependencyFailure(code: number): boolean {
  return _FAILURES.has(code);
}
