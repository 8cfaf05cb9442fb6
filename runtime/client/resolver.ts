/**
 * Resolvers turn a service name into the `host:port` list of its instances:
 * a fixed list, or etcd (an initial get of `<prefix>/<service>/`, then a
 * watch from the revision after it, so additions and removals arrive within
 * milliseconds). An etcd outage keeps the last known list.
 * @module
 */
import type { Etcd3, Watcher } from "etcd3";
import type { Logger } from "../core/logger.ts";
import { backoffDelay, errorMessage, sleep, withDeadline } from "../util/backoff.ts";

/** A source of instance addresses for one service. */
export interface Resolver {
  /** Sorted addresses; null until the first resolution. */
  readonly addresses: readonly string[] | null;
  /** Human-readable origin for error messages, e.g. `etcd prefix "services/x.Y/"`. */
  readonly source: string;
  /** Resolves at the first resolution, after `timeoutMs`, or when `signal` aborts; never rejects. */
  ready(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Stops watching; bounded, never rejects. */
  close(): Promise<void>;
}

/**
 * A resolver for a fixed list; `onChange` is called once, synchronously.
 *
 * @example
 * ```ts
 * createStaticResolver(["10.0.0.1:50051", "10.0.0.2:50051"], (a) => pool.update(a));
 * ```
 */
export function createStaticResolver(
  addresses: readonly string[],
  onChange: (addresses: readonly string[]) => void,
): Resolver {
  const sorted = [...new Set(addresses)].sort();
  onChange(sorted);
  return {
    addresses: sorted,
    source: `static addresses [${sorted.join(", ")}]`,
    ready: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** Options for {@link createEtcdResolver}. */
export interface EtcdResolverOptions {
  /** The client, or its creation in progress (etcd3 is imported on first use). */
  etcd: Etcd3 | Promise<Etcd3>;
  /** The service's directory, `<prefix>/<service>/`. */
  dir: string;
  log: Logger;
  onChange: (addresses: readonly string[]) => void;
  /** Bound of the initial get. Default 5 s. */
  callTimeoutMs?: number;
}

/**
 * Resolves from etcd keys written in grpc-go's naming layout: the value's
 * `Addr` (or, for a value that is not that JSON, the last key segment). A
 * value with `"Op":1` (grpc-go's Delete) removes the instance.
 */
export function createEtcdResolver(options: EtcdResolverOptions): Resolver {
  return new EtcdResolver(options);
}

/**
 * The {@link Resolver} that {@link createEtcdResolver} returns. It starts
 * at construction: list the directory, publish, watch from the revision
 * after the listing, and list again (backing off) when the watch fails or
 * etcd cannot be reached. `onChange` runs only when the sorted list changes.
 *
 * Its methods are bound (arrow fields), as the closures it replaces were:
 * they may be passed around as callbacks.
 */
export class EtcdResolver implements Resolver {
  /** Human-readable origin for error messages. */
  readonly source: string;
  readonly #options: EtcdResolverOptions;
  readonly #dir: string;
  readonly #log: Logger;
  readonly #callTimeoutMs: number;
  /** Set once the client promise resolves, before any etcd call. */
  #etcd!: Etcd3;
  /** The address each key names; published as a sorted, de-duplicated list. */
  readonly #byKey = new Map<string, string>();
  #addresses: readonly string[] | null = null;
  #watcher: Watcher | null = null;
  readonly #closing = new AbortController();
  readonly #closed: Promise<void>;
  #resolveReady!: () => void;
  readonly #firstResolution: Promise<void>;
  /** The loop; never rejects. */
  readonly #loop: Promise<void>;

  /** Starts resolving at once, in the background. */
  constructor(options: EtcdResolverOptions) {
    this.#options = options;
    this.#dir = options.dir;
    this.#log = options.log;
    this.#callTimeoutMs = options.callTimeoutMs ?? 5_000;
    this.source = `etcd prefix "${options.dir}"`;
    // Here, not in a field initializer: fields are defined in declaration
    // order, and moving `#resolveReady` below such an initializer would
    // reset the resolve function to undefined.
    this.#firstResolution = new Promise<void>((resolve) => this.#resolveReady = resolve);
    this.#closed = new Promise<void>((resolve) =>
      this.#closing.signal.addEventListener("abort", () => resolve())
    );
    this.#loop = this.#run().catch((error) => {
      this.#log.error("discovery: resolver stopped", {
        dir: this.#dir,
        error: errorMessage(error),
      });
    });
  }

  /** Sorted addresses; null until the first resolution. */
  get addresses(): readonly string[] | null {
    return this.#addresses;
  }

  /** Resolves at the first resolution, after `timeoutMs`, or when `signal` aborts; never rejects. */
  readonly ready = async (timeoutMs: number, signal?: AbortSignal): Promise<void> => {
    if (this.#addresses !== null) return;
    const aborted = new AbortController();
    const stop = signal ? AbortSignal.any([signal, aborted.signal]) : aborted.signal;
    await Promise.race([this.#firstResolution, sleep(timeoutMs, stop)]);
    aborted.abort();
  };

  /** Stops watching; bounded, never rejects. */
  readonly close = async (): Promise<void> => {
    this.#closing.abort();
    // A listing in flight to a frozen etcd is abandoned; its late outcome is ignored.
    await withDeadline(this.#loop, 1_000, "resolver").catch(() => {});
    await this.#cancel();
  };

  #publish(): void {
    const next = [...new Set(this.#byKey.values())].sort();
    const addresses = this.#addresses;
    if (addresses && next.join() === addresses.join()) return;
    this.#log.info("discovery: instances changed", { dir: this.#dir, instances: next });
    this.#addresses = next;
    // Called bare, not with the resolver's options as `this`.
    const onChange = this.#options.onChange;
    onChange(next);
    this.#resolveReady();
  }

  #apply(key: string, value: string | null): void {
    const address = value === null ? null : _parseAddress(key, this.#dir, value);
    if (address === null) this.#byKey.delete(key);
    else this.#byKey.set(key, address);
  }

  async #run(): Promise<void> {
    const dir = this.#dir;
    const closing = this.#closing.signal;
    this.#etcd = await this.#options.etcd;
    let failures = 0;
    while (!closing.aborted) {
      try {
        const listing = await withDeadline(
          this.#etcd.getAll().prefix(dir).exec(),
          this.#callTimeoutMs,
          `etcd get ${dir}`,
        );
        if (closing.aborted) return;
        this.#byKey.clear();
        for (const kv of listing.kvs) this.#apply(kv.key.toString(), kv.value.toString());
        this.#publish();
        failures = 0;
        const revision = (BigInt(listing.header.revision) + 1n).toString();
        const failed = this.#watch(revision);
        const reason = await Promise.race([failed, this.#closed.then(() => null)]);
        if (reason === null) return;
        // e.g. the revision was compacted while etcd was away: list again.
        this.#log.warn("discovery: watch failed; listing again", { dir, error: reason });
        await this.#cancel();
      } catch (error) {
        failures++;
        const retryInMs = backoffDelay(failures, { initialMs: 250, maxMs: 5_000 });
        this.#log.warn("discovery: cannot list instances; retrying", {
          dir,
          error: errorMessage(error),
          retryInMs,
        });
        await sleep(retryInMs, closing);
      }
    }
  }

  /** Starts the watch; resolves with a reason if it fails for good. */
  #watch(revision: string): Promise<string> {
    const w = this.#etcd.watch().prefix(this.#dir).startRevision(revision).watcher();
    this.#watcher = w;
    // Handlers must not throw: etcd3 rethrows listener errors asynchronously.
    // They are arrows, so `this` stays the resolver whatever etcd3 calls them with.
    w.on("put", (kv) => {
      this.#apply(kv.key.toString(), kv.value.toString());
      this.#publish();
    });
    w.on("delete", (kv) => {
      this.#apply(kv.key.toString(), null);
      this.#publish();
    });
    // etcd3 reconnects and replays from the last revision by itself.
    w.on("disconnected", (error) => {
      this.#log.debug("discovery: watch disconnected", {
        dir: this.#dir,
        error: errorMessage(error),
      });
    });
    return new Promise((resolve) => w.on("error", (error) => resolve(errorMessage(error))));
  }

  async #cancel(): Promise<void> {
    const w = this.#watcher;
    this.#watcher = null;
    if (w) await withDeadline(w.cancel(), 1_000, "etcd watch cancel").catch(() => {});
  }
}

// --- private helpers ---------------------------------------------------------

/** The address a registry value names, or null for grpc-go's Delete op. */
function _parseAddress(key: string, dir: string, value: string): string | null {
  try {
    const parsed = JSON.parse(value);
    if (parsed && typeof parsed === "object") {
      if (parsed.Op === 1) return null;
      if (typeof parsed.Addr === "string" && parsed.Addr !== "") return parsed.Addr;
    }
  } catch {
    // Not JSON: fall back to the key, which ends in the address.
  }
  const suffix = key.slice(dir.length);
  return suffix === "" ? null : suffix;
}
