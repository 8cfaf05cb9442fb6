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

/** Encodes a batch into an OTLP request body. */
export type BatchEncoder = (spans: readonly SpanData[]) => Uint8Array;

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
  readonly encode: BatchEncoder;
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
  #queue: SpanData[] = [];
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
    return this.#queue.length;
  }

  /** An ended span; called on the call path, so O(1) and never blocking. */
  add(span: SpanData): void {
    const queue = this.#queue;
    if (queue.length >= this.#options.maxQueueSize || this.#stopped) {
      this.dropped.queue_full++;
      this.#warn("queue_full", "the span queue is full (tracing.batch.maxQueueSize)", 1);
      return;
    }
    queue.push(span);
    if (this.#exporting !== null) return;
    // Once a batch is due, the spans that follow it until the timer fires
    // must not touch the timer again: one per batch, not one per span.
    if (this.#due) return;
    if (queue.length >= this.#options.maxExportBatchSize && !this.#failing) this.#schedule(0);
    else if (this.#timer === null) this.#schedule(this.#options.scheduleDelayMs);
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
        if (this.#queue.length === 0 || deadline - performance.now() < MIN_FLUSH_EXPORT_MS) break;
        await this.#exportBatch(deadline);
      }
    } finally {
      clearTimeout(overdue);
      this.#stopped = true;
      this.#poster.close();
      const left = this.#queue.length;
      this.dropped.export_failed += left;
      this.#queue = [];
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

  /** Sends one batch; never rejects. */
  #exportBatch(deadline: number): Promise<void> {
    if (this.#exporting !== null || this.#queue.length === 0) {
      return this.#exporting ?? Promise.resolve();
    }
    const batch = this.#queue.splice(0, this.#options.maxExportBatchSize);
    const exporting = this.#send(batch, deadline).then((ok) => {
      this.#exporting = null;
      this.#failing = !ok;
      if (this.#stopped || this.#queue.length === 0) return;
      // After a failure, wait a whole delay: a collector that is down is not
      // asked again hundreds of times a second while spans pour in.
      const full = this.#queue.length >= this.#options.maxExportBatchSize;
      this.#schedule(ok && full ? 0 : this.#options.scheduleDelayMs);
    });
    return this.#exporting = exporting;
  }

  /** Resolves whether the collector took the batch. */
  async #send(batch: SpanData[], deadline: number): Promise<boolean> {
    const { url, timeoutMs, encode } = this.#options;
    const controller = new AbortController();
    this.#inFlight = controller;
    const limit = Math.max(0, Math.min(timeoutMs, deadline - performance.now()));
    const timer = setTimeout(() => controller.abort(), limit);
    try {
      const answer = await this.#poster.post(encode(batch), controller.signal);
      if (answer.status < 200 || answer.status > 299) {
        throw new Error(`HTTP ${answer.status} ${answer.statusText}`.trim());
      }
      this.exported += batch.length;
      return true;
    } catch (error) {
      this.exportFailures++;
      this.dropped.export_failed += batch.length;
      const reason = !controller.signal.aborted
        ? (error as Error)?.message ?? String(error)
        : this.#flushing && limit < timeoutMs
        ? `cut off by the shutdown's bound after ${Math.round(limit)} ms`
        : `no answer within ${Math.round(limit)} ms`;
      this.#lastFailure = `export to ${url} failed: ${reason}`;
      if (!this.#flushing) this.#warn("export_failed", this.#lastFailure, batch.length);
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
