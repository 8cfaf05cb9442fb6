/**
 * Error types shared by the runtime: {@link RpcError} for call failures that
 * a handler means to send, and {@link UserInputError} for mistakes in config,
 * proto or handler files that stop the process before it binds a port.
 * @module
 */

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export enum Status {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** Status names as grpc-go's `codes.Code.String()` spells them (used by metrics and logs). */
export const GO_CODE_NAMES: readonly string[] = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

/** Metadata values: text, or bytes for keys ending in `-bin`. */
export type MetadataValue = string | Uint8Array;

/** Extra options for {@link RpcError}. */
export interface RpcErrorOptions {
  /** Trailers sent with the status. */
  metadata?: Record<string, MetadataValue | MetadataValue[]>;
  /** The underlying cause; logged, never sent. */
  cause?: unknown;
}

/**
 * An error a handler throws to end the call with a chosen status.
 *
 * @example
 * ```ts
 * import { RpcError, Status } from "svc";
 * throw new RpcError(Status.NOT_FOUND, `no user "${id}"`);
 * ```
 */
export class RpcError extends Error {
  override readonly name = "RpcError";
  readonly code: Status;
  readonly metadata: Record<string, MetadataValue | MetadataValue[]>;

  constructor(code: Status, message: string, options: RpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.metadata = options.metadata ?? {};
  }

  /**
   * The one map from anything thrown to the status a client sees, used by
   * the server's call pipeline and by outgoing calls alike. An RpcError
   * passes through. Given the `call` it was thrown in, a cancelled call
   * ends DEADLINE_EXCEEDED once its deadline has passed and CANCELLED
   * otherwise; without one, an AbortError is CANCELLED. Anything else is
   * INTERNAL with a generic message, keeping the original as `cause` so it
   * can be logged, never sent.
   *
   * @example
   * ```ts
   * import { RpcError, Status } from "svc";
   * RpcError.from(new Error("boom")).code; // Status.INTERNAL
   * ```
   */
  static from(thrown: unknown, call?: ThrownIn): RpcError {
    if (thrown instanceof RpcError) return thrown;
    if (call) {
      // Shared instances: a cancelled call is the client's doing, no cause to log.
      if (call.aborted ?? call.signal.aborted) {
        return call.deadline <= Date.now() ? DEADLINE : CANCELLED;
      }
    } else if (thrown instanceof DOMException && thrown.name === "AbortError") {
      return new RpcError(Status.CANCELLED, "call cancelled", { cause: thrown });
    }
    return new RpcError(Status.INTERNAL, "internal error", { cause: thrown });
  }
}

/**
 * The call a value was thrown in: its signal and deadline tell a client's
 * cancellation or an expired deadline from a failure.
 */
export interface ThrownIn {
  readonly signal: AbortSignal;
  /** The signal's state without making it, where the call can tell (TransportCall.aborted). */
  readonly aborted?: boolean;
  /** Absolute, epoch ms; Infinity for none. */
  readonly deadline: number;
}

const CANCELLED = new RpcError(Status.CANCELLED, "call cancelled");
const DEADLINE = new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded");

/** One problem in a user's file: where it is, and what is wrong. */
export interface Issue {
  /** The file the problem is in. */
  file: string;
  /** YAML path (`server.port`), proto symbol, or handler export; optional. */
  where?: string;
  /** 1-based line, when known. */
  line?: number;
  /** 1-based column, when known. */
  column?: number;
  /** What is wrong and, where possible, how to fix it. */
  message: string;
}

/** Formats an issue as one line: `file:line:col: where: message`. */
export function formatIssue(issue: Issue): string {
  let location = issue.file;
  if (issue.line !== undefined) {
    location += `:${issue.line}`;
    if (issue.column !== undefined) location += `:${issue.column}`;
  }
  return issue.where
    ? `${location}: ${issue.where}: ${issue.message}`
    : `${location}: ${issue.message}`;
}

/**
 * A mistake in config, proto or handler files. Carries every problem found,
 * so the user can fix them all in one go. The CLI prints one line per issue
 * and exits 2.
 */
export class UserInputError extends Error {
  override readonly name = "UserInputError";
  readonly issues: readonly Issue[];
  /** Shown once after the issues, e.g. what a correct file looks like. */
  readonly hint: string | undefined;

  constructor(kind: string, issues: readonly Issue[], hint?: string) {
    super(
      `${kind}: ${issues.length} problem${issues.length === 1 ? "" : "s"}\n` +
        issues.map(formatIssue).join("\n"),
    );
    this.issues = issues;
    this.hint = hint;
  }
}
