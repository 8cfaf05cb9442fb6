/**
 * Test helpers: a fake clock, a fake ServerCall and a config builder.
 * @module
 */
import type { ResolvedRateLimit } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { Metadata } from "../core/metadata.ts";
import type { ServerCall } from "../core/context.ts";
import { NOOP_SPAN } from "../core/noop_span.ts";

/** A clock tests move by hand. */
export class FakeClock {
  /** Current time in ms; starts away from 0 so "time 0" bugs show. */
  ms = 10_000;
  /** The clock function to inject. */
  readonly now = (): number => this.ms;
  /** Moves time forward. */
  advance(ms: number): void {
    this.ms += ms;
  }
}

const _silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => _silent,
  enabled: () => false,
};

/** What a fake call may override. */
export interface FakeCallInit {
  peer?: string;
  metadata?: Record<string, string | Uint8Array>;
  signal?: AbortSignal;
}

/** A ServerCall for `method` (`/pkg.Service/Method`) with no transport behind it. */
export function fakeCall(method: string, init: FakeCallInit = {}): ServerCall {
  const slash = method.lastIndexOf("/");
  return {
    method,
    service: method.slice(1, slash),
    methodName: method.slice(slash + 1),
    kind: "unary",
    metadata: Metadata.from(init.metadata ?? {}),
    peer: init.peer ?? "10.0.0.1:40000",
    peerCertificate: null,
    deadline: Infinity,
    signal: init.signal ?? new AbortController().signal,
    log: _silent,
    messagesReceived: 0,
    messagesSent: 0,
    setHeader() {},
    setTrailer() {},
    requestCompressed: false,
    compressResponses() {},
    span: NOOP_SPAN,
    clients: {
      get: () => {
        throw new Error("no clients in rate-limit tests");
      },
    },
  };
}

/** A `rateLimit` config with nothing set, overlaid with `overrides`. */
export function limits(
  overrides: Partial<Omit<ResolvedRateLimit, "maxConcurrent">> & {
    maxConcurrent?: Partial<ResolvedRateLimit["maxConcurrent"]>;
  } = {},
): ResolvedRateLimit {
  return {
    global: overrides.global ?? null,
    perMethod: overrides.perMethod ?? {},
    perKey: overrides.perKey ?? null,
    maxConcurrent: { global: 0, perMethod: {}, ...overrides.maxConcurrent },
  };
}
