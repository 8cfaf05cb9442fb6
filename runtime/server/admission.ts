/**
 * Call admission: a gate the call runner asks before anything else runs
 * (interceptors, decoding, the handler), so that refusing a call costs no
 * more than its status. The overload limiter (overload/) is one; the
 * runner knows only this shape.
 * @module
 */
import type { TransportCall } from "../transport/types.ts";

/** One method's gate. */
export interface CallAdmission {
  /**
   * Lets `call` in and returns a ticket (≥ 0) for {@link release}, or
   * throws the error the call ends with. Runs before the request is decoded.
   */
  admit(call: TransportCall): number;
  /** The admitted call's interceptors and handler have settled. */
  release(ticket: number): void;
}

/** The gate for each method, or null for methods that are never refused. */
export type AdmissionFor = (
  method: { readonly service: string; readonly kind: string },
) => CallAdmission | null;
