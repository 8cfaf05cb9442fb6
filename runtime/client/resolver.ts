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
  const { dir, log, onChange } = options;
  let etcd!: Etcd3;
  const callTimeoutMs = options.callTimeoutMs ?? 5_000;
  const byKey = new Map<string, string>();
  let addresses: readonly string[] | null = null;
  let watcher: Watcher | null = null;
  const closing = new AbortController();
  const closed = new Promise<void>((resolve) =>
    closing.signal.addEventListener("abort", () => resolve())
  );
  let resolveReady!: () => void;
  const firstResolution = new Promise<void>((resolve) => resolveReady = resolve);

  const publish = () => {
    const next = [...new Set(byKey.values())].sort();
    if (addresses && next.join() === addresses.join()) return;
    log.info("discovery: instances changed", { dir, instances: next });
    addresses = next;
    onChange(next);
    resolveReady();
  };
  const apply = (key: string, value: string | null) => {
    const address = value === null ? null : _parseAddress(key, dir, value);
    if (address === null) byKey.delete(key);
    else byKey.set(key, address);
  };

  async function run(): Promise<void> {
    etcd = await options.etcd;
    let failures = 0;
    while (!closing.signal.aborted) {
      try {
        const listing = await withDeadline(
          etcd.getAll().prefix(dir).exec(),
          callTimeoutMs,
          `etcd get ${dir}`,
        );
        if (closing.signal.aborted) return;
        byKey.clear();
        for (const kv of listing.kvs) apply(kv.key.toString(), kv.value.toString());
        publish();
        failures = 0;
        const revision = (BigInt(listing.header.revision) + 1n).toString();
        const failed = _watch(revision);
        const reason = await Promise.race([failed, closed.then(() => null)]);
        if (reason === null) return;
        // e.g. the revision was compacted while etcd was away: list again.
        log.warn("discovery: watch failed; listing again", { dir, error: reason });
        await _cancel();
      } catch (error) {
        failures++;
        const retryInMs = backoffDelay(failures, { initialMs: 250, maxMs: 5_000 });
        log.warn("discovery: cannot list instances; retrying", {
          dir,
          error: errorMessage(error),
          retryInMs,
        });
        await sleep(retryInMs, closing.signal);
      }
    }
  }

  /** Starts the watch; resolves with a reason if it fails for good. */
  function _watch(revision: string): Promise<string> {
    const w = etcd.watch().prefix(dir).startRevision(revision).watcher();
    watcher = w;
    // Handlers must not throw: etcd3 rethrows listener errors asynchronously.
    w.on("put", (kv) => {
      apply(kv.key.toString(), kv.value.toString());
      publish();
    });
    w.on("delete", (kv) => {
      apply(kv.key.toString(), null);
      publish();
    });
    // etcd3 reconnects and replays from the last revision by itself.
    w.on("disconnected", (error) => {
      log.debug("discovery: watch disconnected", { dir, error: errorMessage(error) });
    });
    return new Promise((resolve) => w.on("error", (error) => resolve(errorMessage(error))));
  }

  async function _cancel(): Promise<void> {
    const w = watcher;
    watcher = null;
    if (w) await withDeadline(w.cancel(), 1_000, "etcd watch cancel").catch(() => {});
  }

  const loop = run().catch((error) => {
    log.error("discovery: resolver stopped", { dir, error: errorMessage(error) });
  });

  return {
    get addresses() {
      return addresses;
    },
    source: `etcd prefix "${dir}"`,
    async ready(timeoutMs, signal) {
      if (addresses !== null) return;
      const aborted = new AbortController();
      const stop = signal ? AbortSignal.any([signal, aborted.signal]) : aborted.signal;
      await Promise.race([firstResolution, sleep(timeoutMs, stop)]);
      aborted.abort();
    },
    async close() {
      closing.abort();
      // A listing in flight to a frozen etcd is abandoned; its late outcome is ignored.
      await withDeadline(loop, 1_000, "resolver").catch(() => {});
      await _cancel();
    },
  };
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
