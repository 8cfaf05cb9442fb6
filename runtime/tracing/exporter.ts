/**
 * The batch exporter: ended spans wait in a bounded queue and leave in
 * batches, one OTLP/HTTP request at a time, each bounded by
 * `tracing.exporter.timeout`. Nothing here ever makes a call wait: a full
 * queue drops the span and counts it, a failed export drops its batch and
 * counts it, and the warning about either is logged at most once a minute.
 * @module
 */
import type { Logger } from "../core/logger.ts";
import type { SpanData } from "./span_data.ts";
import type { SpanSink } from "./span.ts";
import { HttpPoster } from "./http_post.ts";

/** What the exporter counts, read at scrape time (`svc_tracing_*`). */
export interface TracingReadings {
  /** Spans dropped, by reason: `queue_full` or `export_failed`. */
  readonly dropped: Readonly<Record<"queue_full" | "export_failed", number>>;
  /** Export requests that failed (network error, timeout, non-2xx). */
  readonly exportFailures: number;
  /** Spans the collector accepted. */
  readonly exported: number;
  /** Spans waiting in the queue now. */
  readonly queued: number;
}

/**
 * Encodes spans as they end into an open batch, and seals it into a
 * request body (otlp_batch.ts's OtlpTraceEncoder).
 */
export interface BatchEncoder {
  append(span: SpanData): void;
  /** Spans in the open batch. */
  readonly openSpans: number;
  /**
   * The open batch as a request body, with `headroom` bytes before it in
   * its buffer that are free to write (so the HTTP head and the body leave
   * in one write).
   */
  seal(headroom: number): Uint8Array;
  /** A sealed body that was sent: its buffer may serve a later batch. */
  recycle(body: Uint8Array): void;
}

/** Options for {@link BatchExporter}. */
export interface BatchExporterOptions {
  /** The OTLP/HTTP traces URL. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Bound on one export request, ms. */
  readonly timeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  /** Longest a span waits for its batch, ms. */
  readonly scheduleDelayMs: number;
  readonly encoder: BatchEncoder;
  readonly log: Logger;
}

const WARN_EVERY_MS = 60_000;
/** At shutdown, a batch is not started with less time than this left. */
const MIN_FLUSH_EXPORT_MS = 50;

/** Queues ended spans and exports them in batches. */
export class BatchExporter implements SpanSink, TracingReadings {
  readonly dropped = { queue_full: 0, export_failed: 0 };
  exportFailures = 0;
  exported = 0;
  /** Batches sealed and waiting, with their span counts. */
  #sealed: { body: Uint8Array; spans: number }[] = [];
  #sealedSpans = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The timer is set to export at once. */
  #due = false;
  #exporting: Promise<void> | null = null;
  #inFlight: AbortController | null = null;
  #stopped = false;
  /** The last export failed: the next waits a whole delay. */
  #failing = false;
  /** Shutting down: failures are summed up once at the end, not warned one by one. */
  #flushing = false;
  #lastFailure = "";
  /** Per reason, so a full queue does not hide for a minute why it filled. */
  readonly #warnings = {
    queue_full: { last: -Infinity, unreported: 0 },
    export_failed: { last: -Infinity, unreported: 0 },
  };
  readonly #options: BatchExporterOptions;
  readonly #poster: HttpPoster;

  constructor(options: BatchExporterOptions) {
    this.#options = options;
    this.#poster = new HttpPoster(options.url, {
      ...options.headers,
      "content-type": "application/x-protobuf",
    });
  }

  get queued(): number {
    return this.#sealedSpans + this.#options.encoder.openSpans;
  }

  /**
   * An ended span; called on the call path. It is encoded at once (so it
   * dies young) and never waits.
   */
  add(span: SpanData): void {
    const { encoder, maxQueueSize, maxExportBatchSize } = this.#options;
    if (this.queued >= maxQueueSize || this.#stopped) {
      this.dropped.queue_full++;
      this.#warn("queue_full", "the span queue is full (tracing.batch.maxQueueSize)", 1);
      return;
    }
    encoder.append(span);
    if (encoder.openSpans >= maxExportBatchSize) this.#seal();
    if (this.#exporting !== null) return;
    // Once a batch is due, the spans that follow it until the timer fires
    // must not touch the timer again: one per batch, not one per span.
    if (this.#due) return;
    if (this.#sealed.length > 0 && !this.#failing) this.#schedule(0);
    else if (this.#timer === null) this.#schedule(this.#options.scheduleDelayMs);
  }

  #seal(): void {
    const spans = this.#options.encoder.openSpans;
    if (spans === 0) return;
    this.#sealed.push({ body: this.#options.encoder.seal(this.#poster.headroom), spans });
    this.#sealedSpans += spans;
  }

  /**
   * Exports everything queued, batch after batch, giving up after
   * `boundMs`; then stops taking spans. For shutdown, after the last call.
   * What could not be sent is logged once, whatever the once-a-minute
   * warnings said before.
   */
  async flush(boundMs: number): Promise<void> {
    const deadline = performance.now() + boundMs;
    const droppedBefore = this.dropped.export_failed + this.dropped.queue_full;
    this.#clearTimer();
    this.#flushing = true;
    const overdue = setTimeout(() => this.#inFlight?.abort(), boundMs);
    try {
      for (;;) {
        await this.#exporting;
        // A batch started with almost no time left would only be cut off.
        if (this.queued === 0 || deadline - performance.now() < MIN_FLUSH_EXPORT_MS) break;
        await this.#exportBatch(deadline);
      }
    } finally {
      clearTimeout(overdue);
      this.#stopped = true;
      this.#poster.close();
      const left = this.queued;
      this.dropped.export_failed += left;
      this.#options.encoder.seal(0);
      this.#sealed = [];
      this.#sealedSpans = 0;
      const lost = this.dropped.export_failed + this.dropped.queue_full - droppedBefore;
      if (lost > 0) {
        this.#options.log.warn(
          `tracing: ${lost} spans were not exported before exit (${
            this.#lastFailure || "out of time"
          })`,
          { spans: lost, boundMs },
        );
      }
    }
  }

  #schedule(delayMs: number): void {
    this.#clearTimer();
    this.#due = delayMs === 0;
    const timer = setTimeout(() => {
      this.#timer = null;
      this.#due = false;
      this.#exportBatch(Infinity);
    }, delayMs);
    // Waiting spans must not keep a process alive that has nothing else to do.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#due = false;
  }

  /** Sends one batch (sealing the open one if none is waiting); never rejects. */
  #exportBatch(deadline: number): Promise<void> {
    if (this.#exporting !== null) return this.#exporting;
    if (this.#sealed.length === 0) this.#seal();
    const batch = this.#sealed.shift();
    if (batch === undefined) return Promise.resolve();
    this.#sealedSpans -= batch.spans;
    const exporting = this.#send(batch.body, batch.spans, deadline).then((ok) => {
      this.#exporting = null;
      this.#failing = !ok;
      if (this.#stopped || this.queued === 0) return;
      // After a failure, wait a whole delay: a collector that is down is not
      // asked again hundreds of times a second while spans pour in.
      this.#schedule(ok && this.#sealed.length > 0 ? 0 : this.#options.scheduleDelayMs);
    });
    return this.#exporting = exporting;
  }

  /** Resolves whether the collector took the batch. */
  async #send(body: Uint8Array, spans: number, deadline: number): Promise<boolean> {
    const { url, timeoutMs } = this.#options;
    const controller = new AbortController();
    this.#inFlight = controller;
    const limit = Math.max(0, Math.min(timeoutMs, deadline - performance.now()));
    const timer = setTimeout(() => controller.abort(), limit);
    try {
      const answer = await this.#poster.post(body, controller.signal, this.#poster.headroom);
      if (answer.status < 200 || answer.status > 299) {
        throw new Error(`HTTP ${answer.status} ${answer.statusText}`.trim());
      }
      // Only now: a write cut off by the timeout may still be reading the buffer.
      this.#options.encoder.recycle(body);
      this.exported += spans;
      return true;
    } catch (error) {
      this.exportFailures++;
      this.dropped.export_failed += spans;
      const reason = !controller.signal.aborted
        ? (error as Error)?.message ?? String(error)
        : this.#flushing && limit < timeoutMs
        ? `cut off by the shutdown's bound after ${Math.round(limit)} ms`
        : `no answer within ${Math.round(limit)} ms`;
      this.#lastFailure = `export to ${url} failed: ${reason}`;
      if (!this.#flushing) this.#warn("export_failed", this.#lastFailure, spans);
      return false;
    } finally {
      clearTimeout(timer);
      this.#inFlight = null;
    }
  }

  /**
   * Logs at most once a minute per reason, with the spans dropped for it
   * since its last warning.
   */
  #warn(reason: "queue_full" | "export_failed", message: string, dropped: number): void {
    const state = this.#warnings[reason];
    state.unreported += dropped;
    const now = performance.now();
    if (now - state.last < WARN_EVERY_MS) return;
    state.last = now;
    this.#options.log.warn(`tracing: ${message}; spans are dropped`, {
      droppedSpans: state.unreported,
    });
    state.unreported = 0;
  }
}
