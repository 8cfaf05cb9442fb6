/**
 * The official OTLP definitions for Python (PyPI's opentelemetry-proto),
 * which the tracing tests decode svc's exports with, and a real OTLP/HTTP
 * trace receiver built on them (tests/python/otlp_receiver.py). `.ci/run`
 * installs the package into .ci/.tools/pylib. Not a test file.
 *
 * @example
 * ```ts ignore
 * import { otlpProtoMissing, startOtlpReceiver } from "./_otlp.ts";
 * const skip = await otlpProtoMissing();
 * Deno.test({ name: "exports spans", ignore: skip !== null, async fn() {
 *   await using receiver = await startOtlpReceiver();
 *   // ... point svc's exporter at receiver.tracesUrl, make a call ...
 *   const spans = await receiver.waitForSpans((s) => s.some((x) => x.kind === "SPAN_KIND_SERVER"));
 * } });
 * ```
 * @module
 */
import { ROOT } from "./_harness.ts";
import { PYTHON } from "./_python.ts";

/** Where .ci/run installs opentelemetry-proto; PYTHONPATH for the scripts that import it. */
export const OTLP_PYTHONPATH = `${ROOT}/.ci/.tools/pylib`;

/** Why the OTLP tests cannot run here, or null when they can. */
export async function otlpProtoMissing(): Promise<string | null> {
  try {
    const { code } = await new Deno.Command(PYTHON, {
      args: ["-c", "from opentelemetry.proto.collector.trace.v1 import trace_service_pb2"],
      env: { PYTHONPATH: OTLP_PYTHONPATH },
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0 ? null : `opentelemetry-proto is not installed in ${OTLP_PYTHONPATH}`;
  } catch {
    return `${PYTHON} not found`;
  }
}

/**
 * An OTLP attribute value as the receiver reports it: bytes arrive as base64
 * text (as in OTLP/JSON), a kvlist as an object. Integers are JS numbers, so
 * an int64 beyond 2^53 is rounded; {@link ReceivedSpan.attribute_types}
 * tells an int from a double.
 */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

/** Attributes by key. */
export type Attributes = Record<string, AttributeValue>;

/**
 * One span the receiver decoded, flattened with its resource, scope and the
 * HTTP request's headers. Ids are lowercase hex. The `*_ns` times are Unix
 * nanoseconds as JS numbers: beyond 2^53, so exact to about 256 ns, but
 * their order is kept (rounding is monotonic).
 */
export interface ReceivedSpan {
  trace_id: string;
  span_id: string;
  /** "" for a root span. */
  parent_span_id: string;
  trace_state: string;
  flags: number;
  name: string;
  /** The SpanKind enum name, e.g. `SPAN_KIND_SERVER`. */
  kind: string;
  start_ns: number;
  end_ns: number;
  attributes: Attributes;
  /** Which AnyValue field each attribute set: "string_value", "int_value", "double_value", ... */
  attribute_types: Record<string, string>;
  events: { name: string; time_ns: number; attributes: Attributes }[];
  links: { trace_id: string; span_id: string; attributes: Attributes }[];
  /** `code` is the StatusCode enum name, e.g. `STATUS_CODE_ERROR`. */
  status: { code: string; message: string };
  /** The resource's attributes. */
  resource: Attributes;
  scope: { name: string; version: string };
  /** Every header of the HTTP request that carried the span, names lower-cased. */
  headers: Record<string, string>;
}

/** Counters of a receiver. */
export interface OtlpStats {
  /** POSTs to /v1/traces received, in any mode (counted on arrival). */
  requests: number;
  /** Spans recorded. */
  spans: number;
}

/** How a receiver answers, for {@link startOtlpReceiver}. */
export interface OtlpReceiverOptions {
  /**
   * `ok` (default) records and answers 200; `slow` does too, after
   * `delayMs`; `refuse` answers 503 and `error400` 400, recording nothing.
   */
  mode?: "ok" | "slow" | "refuse" | "error400";
  /** The reply delay of `mode: "slow"`, in ms. */
  delayMs?: number;
  /** Port to listen on; default 0, the kernel's choice. */
  port?: number;
}

/** A running receiver; `await using` stops it. */
export interface OtlpReceiver extends AsyncDisposable {
  readonly port: number;
  /** `http://127.0.0.1:PORT`, the base URL (an exporter's endpoint without a path). */
  readonly url: string;
  /** `url` + `/v1/traces`. */
  readonly tracesUrl: string;
  /** Every span recorded so far, in arrival order. */
  spans(): Promise<ReceivedSpan[]>;
  /**
   * Polls until `predicate` accepts the spans recorded so far and resolves
   * with them; rejects after `timeoutMs` (default 10 s), listing what arrived.
   */
  waitForSpans(
    predicate: (spans: ReceivedSpan[]) => boolean,
    timeoutMs?: number,
  ): Promise<ReceivedSpan[]>;
  stats(): Promise<OtlpStats>;
  /** Everything the receiver wrote to stderr so far (handler tracebacks). */
  stderr(): string;
  /** SIGTERM, SIGKILL after 5 s, then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const RECEIVER = `${ROOT}/tests/python/otlp_receiver.py`;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 50;

/**
 * Starts tests/python/otlp_receiver.py on 127.0.0.1 and resolves once it
 * listens; rejects with its stderr when it exits first or is not ready in
 * 10 s (it is killed then).
 */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const dir = await Deno.makeTempDir({ prefix: "svc-otlp-" });
  const out = `${dir}/spans.jsonl`;
  const args = [RECEIVER, String(options.port ?? 0), "--out", out];
  args.push("--mode", options.mode ?? "ok", "--delay-ms", String(options.delayMs ?? 0));
  const child = new Deno.Command(PYTHON, {
    args,
    env: { PYTHONPATH: OTLP_PYTHONPATH },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let stdout = "";
  let stderr = "";
  let wake = () => {};
  // Both pipes are read to their end, so the child never blocks on a full
  // pipe and no stream is left open when the test ends.
  const readAll = async (stream: ReadableStream<Uint8Array>, append: (text: string) => void) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      append(text);
      wake();
    }
  };
  const readers = Promise.all([
    readAll(child.stdout, (t) => stdout += t),
    readAll(child.stderr, (t) => stderr += t),
  ]);
  let done = false;
  const exited = Promise.all([child.status, readers]).then(([status]) => {
    done = true;
    wake();
    return status;
  });

  const kill = (signal: Deno.Signal) => {
    if (done) return;
    try {
      child.kill(signal);
    } catch {
      // Exited meanwhile.
    }
  };
  const port = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(
      () => resolve(`no {"port": N} line within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );
    wake = () => {
      const match = /^\{"port": (\d+)\}$/m.exec(stdout);
      if (match || done) {
        clearTimeout(timer);
        wake = () => {};
        resolve(match ? Number(match[1]) : "the receiver exited before listening");
      }
    };
    wake();
  });
  if (typeof port === "string") {
    kill("SIGKILL");
    const status = await exited;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`otlp_receiver.py: ${port} (exit ${status.code}); stderr:\n${stderr}`);
  }

  const url = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), STOP_TIMEOUT_MS);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    })();

  const spans = async (): Promise<ReceivedSpan[]> => {
    let text: string;
    try {
      text = await Deno.readTextFile(out);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return []; // Nothing recorded yet.
      throw e;
    }
    // The receiver writes whole lines per request, but a read may still
    // catch a write half done: only complete lines count.
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    return complete.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  };

  const stats = async (): Promise<OtlpStats> => {
    const response = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) {
      throw new Error(`GET ${url}/stats: ${response.status} ${await response.text()}`);
    }
    return await response.json();
  };

  const waitForSpans = async (
    predicate: (spans: ReceivedSpan[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<ReceivedSpan[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await spans();
      if (predicate(got)) return got;
      if (Date.now() >= deadline || done) {
        const counters = await stats().then(
          (s) => `${s.requests} request(s), ${s.spans} span(s)`,
          () => "stats unavailable",
        );
        throw new Error(
          `no spans matching the predicate within ${timeoutMs} ms` +
            `${done ? " (the receiver exited)" : ""}; the receiver saw ${counters}, ` +
            `${got.length} span(s) arrived:\n${describeSpans(got)}` +
            (stderr ? `\nreceiver stderr:\n${stderr}` : ""),
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };

  return {
    port,
    url,
    tracesUrl: `${url}/v1/traces`,
    spans,
    waitForSpans,
    stats,
    stderr: () => stderr,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** One line per span (at most 50), for failure messages. */
export function describeSpans(spans: ReceivedSpan[]): string {
  if (spans.length === 0) return "  (none)";
  const lines = spans.slice(0, 50).map((s) =>
    `  ${s.name} ${s.kind} ${s.status.code} trace=${s.trace_id} span=${s.span_id}` +
    ` parent=${s.parent_span_id || "-"} service=${String(s.resource["service.name"])}` +
    ` attributes=${JSON.stringify(s.attributes)}`
  );
  if (spans.length > 50) lines.push(`  ... and ${spans.length - 50} more`);
  return lines.join("\n");
}
