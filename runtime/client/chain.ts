/**
 * Client middleware around a call: the chain is composed once per set of
 * interceptors, and its innermost handler runs the call's own attempts.
 * For streaming responses the chain stays open while the caller reads: the
 * attempts hand each message over and wait until the caller takes it, so
 * an interceptor's `await next(call)` ends when the stream does.
 * @module
 */
import { RpcError, Status } from "../core/errors.ts";
import type { ClientCall, ClientCallHandler, ClientInterceptor } from "../core/clients.ts";
import type { OutgoingCall } from "./outgoing_call.ts";

/** What a call's innermost handler runs: its attempts. */
export type Terminal = (call: OutgoingCall) => Promise<void>;

const _terminals = new WeakMap<ClientCall, Terminal>();

/** The chain over `interceptors`, or null when there are none (calls then skip it). */
export function composeClientChain(
  interceptors: readonly ClientInterceptor[],
): ClientCallHandler | null {
  if (interceptors.length === 0) return null;
  const innermost: ClientCallHandler = (call) => {
    const terminal = _terminals.get(call);
    if (!terminal) {
      throw new Error(
        "client middleware must pass the call it received to next(call), not another object",
      );
    }
    return terminal(call as OutgoingCall);
  };
  return interceptors.reduceRight<ClientCallHandler>(
    (next, interceptor) => interceptor(next),
    innermost,
  );
}

/** Runs `chain` over `call`, whose innermost handler is `terminal`. */
export function runChain(
  chain: ClientCallHandler,
  call: OutgoingCall,
  terminal: Terminal,
): Promise<void> {
  _terminals.set(call, terminal);
  return chain(call);
}

/**
 * The responses of a streaming call run through `chain`: `source` is read
 * inside the chain, and each message reaches the caller through a handoff.
 * A caller that stops reading early cancels the source (CANCELLED).
 */
export async function* streamThroughChain<T>(
  chain: ClientCallHandler,
  call: OutgoingCall,
  source: () => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const handoff = new _Handoff<T>();
  const done = runChain(chain, call, async () => {
    for await (const message of source()) await handoff.put(message);
  }).then(() => handoff.end(), (error) => handoff.fail(error));
  try {
    for (;;) {
      const next = await handoff.take();
      if (next.done) break;
      yield next.value;
    }
  } finally {
    handoff.cancel();
    await done;
  }
}

/**
 * A one-message rendezvous between the chain (producer) and the caller
 * (consumer): `put` resolves when the message is taken, so the stream's
 * flow control still reaches the server.
 */
class _Handoff<T> {
  #value: { value: T; taken: () => void } | null = null;
  #taker: ((result: IteratorResult<T>) => void) | null = null;
  #failTaker: ((error: unknown) => void) | null = null;
  #ended = false;
  #error: { error: unknown } | null = null;
  #cancelled = false;
  #onCancel: ((error: unknown) => void) | null = null;

  put(value: T): Promise<void> {
    if (this.#cancelled) return Promise.reject(_stopped());
    return new Promise((resolve, reject) => {
      this.#onCancel = reject;
      const taker = this.#taker;
      if (taker) {
        this.#taker = this.#failTaker = null;
        this.#onCancel = null;
        taker({ done: false, value });
        resolve();
      } else {
        this.#value = { value, taken: resolve };
      }
    });
  }

  take(): Promise<IteratorResult<T>> {
    const pending = this.#value;
    if (pending) {
      this.#value = null;
      this.#onCancel = null;
      pending.taken();
      return Promise.resolve({ done: false, value: pending.value });
    }
    if (this.#error) return Promise.reject(this.#error.error);
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.#taker = resolve;
      this.#failTaker = reject;
    });
  }

  end(): void {
    this.#ended = true;
    this.#taker?.({ done: true, value: undefined });
    this.#taker = this.#failTaker = null;
  }

  fail(error: unknown): void {
    this.#error = { error };
    this.#failTaker?.(error);
    this.#taker = this.#failTaker = null;
  }

  /** The caller stopped reading: a waiting or later `put` rejects, ending the source. */
  cancel(): void {
    if (this.#ended || this.#error) return;
    this.#cancelled = true;
    this.#onCancel?.(_stopped());
    this.#onCancel = null;
    this.#value = null;
  }
}

function _stopped(): RpcError {
  return new RpcError(Status.CANCELLED, "the caller stopped reading the responses");
}
