/**
 * One registration: a lease, the instance's keys put under it, and watchers
 * on those keys. It reports, once, why it ended (lease lost, keep-alive
 * expired, key deleted by someone); the registrar then opens a new one.
 * @module
 */
import type { Etcd3, Lease, Watcher } from "etcd3";
import type { Logger } from "../core/logger.ts";
import { errorMessage, withDeadline } from "../util/backoff.ts";

/** A key and the value to put under the lease. */
export interface Entry {
  key: string;
  value: string;
}

/** A live registration, as returned by {@link openSession}. */
export interface Session {
  /** The lease ID as etcd prints it (hex), e.g. for `etcdctl lease timetolive`. */
  readonly leaseId: string;
  /** Resolves, once, with why the registration is gone. Never rejects. */
  readonly lost: Promise<string>;
  /**
   * Stops the keep-alive at once (so the lease expires by itself) and
   * cancels the key watchers, bounded by `timeoutMs`. Never rejects.
   */
  release(timeoutMs: number): Promise<void>;
  /** Deletes the keys, then revokes the lease, by `deadline` (epoch ms). Rejects on failure. */
  remove(deadline: number): Promise<void>;
  /** Revokes the lease by `deadline`, logging instead of rejecting. Keys already moved to a newer lease stay. */
  revokeQuietly(deadline: number): Promise<void>;
}

/**
 * Grants a lease of `ttlSeconds`, puts every entry under it, and watches
 * the keys for deletion. Each etcd call is bounded by `callTimeoutMs`. On
 * failure everything started is released and the error rethrown.
 */
export async function openSession(
  etcd: Etcd3,
  entries: readonly Entry[],
  ttlSeconds: number,
  callTimeoutMs: number,
  log: Logger,
): Promise<Session> {
  let reportLoss!: (reason: string) => void;
  const lost = new Promise<string>((resolve) => reportLoss = resolve);

  // etcd3 grants in the constructor and keeps the lease alive by itself;
  // "lost" covers a failed grant, an external revoke (keep-alive answers
  // TTL 0) and an outage longer than 2×TTL. Listeners go on first, so no
  // event is missed.
  const lease: Lease = etcd.lease(ttlSeconds);
  lease.on("lost", (error) => reportLoss(`lease lost: ${errorMessage(error)}`));
  let keepaliveFailures = 0;
  lease.on("keepaliveFailed", (error) => {
    // etcd3 retries every 100 ms while etcd is away; one line is enough.
    if (keepaliveFailures++ === 0) {
      log.debug("registry: keep-alive failed; etcd3 retries", { error: errorMessage(error) });
    }
  });
  lease.on("keepaliveSucceeded", () => keepaliveFailures = 0);

  const watchers: Watcher[] = [];
  let leaseId = "";
  try {
    const id = await withDeadline(lease.grant(), callTimeoutMs, "etcd lease grant");
    leaseId = BigInt(id).toString(16);
    const puts = entries.map((entry) =>
      withDeadline(
        etcd.put(entry.key).value(entry.value).lease(id).exec(),
        callTimeoutMs,
        `etcd put ${entry.key}`,
      )
    );
    const results = await Promise.all(puts);
    entries.forEach((entry, i) => {
      // Watch from just after our own put, so a delete in between is not missed.
      const revision = (BigInt(results[i].header.revision) + 1n).toString();
      const watcher = etcd.watch().key(entry.key).only("delete").startRevision(revision).watcher();
      watcher.on("delete", () => reportLoss(`key ${entry.key} was deleted`));
      // An unhandled "error" event would throw; a failed watch (e.g. its
      // revision compacted away) means we can no longer vouch for the key.
      watcher.on("error", (error) => reportLoss(`key watch failed: ${errorMessage(error)}`));
      watcher.on("disconnected", () => {});
      watchers.push(watcher);
    });
  } catch (error) {
    lease.release();
    await _cancelAll(watchers, callTimeoutMs);
    // The grant may have reached etcd; don't leave a lease behind for a full TTL.
    if (leaseId !== "") _revoke(lease, Date.now() + callTimeoutMs, log, leaseId);
    throw error;
  }

  return {
    leaseId,
    lost,
    async release(timeoutMs) {
      lease.release();
      await _cancelAll(watchers, timeoutMs);
    },
    async remove(deadline) {
      lease.release();
      // Not awaited: the loop is stopped, so the watchers' DELETE events
      // (caused by us) are ignored, and a frozen etcd would eat the budget.
      void _cancelAll(watchers, deadline - Date.now());
      const deletes = entries.map((entry) =>
        withDeadline(
          etcd.delete().key(entry.key).options({ deadline }).exec(),
          deadline - Date.now(),
          `etcd delete ${entry.key}`,
        )
      );
      await Promise.all(deletes);
      await withDeadline(lease.revoke({ deadline }), deadline - Date.now(), "etcd lease revoke");
    },
    revokeQuietly: (deadline) => _revoke(lease, deadline, log, leaseId),
  };
}

// --- private helpers ---------------------------------------------------------

async function _revoke(lease: Lease, deadline: number, log: Logger, leaseId: string) {
  try {
    await withDeadline(lease.revoke({ deadline }), deadline - Date.now(), "etcd lease revoke");
  } catch (error) {
    log.debug("registry: could not revoke an old lease; it expires by itself", {
      lease: leaseId,
      error: errorMessage(error),
    });
  }
}

/** Cancels watchers; a frozen etcd never answers the cancel, so it is bounded and never rejects. */
async function _cancelAll(watchers: readonly Watcher[], timeoutMs: number): Promise<void> {
  const cancels = watchers.map((w) => w.cancel());
  await withDeadline(Promise.all(cancels), timeoutMs, "etcd watch cancel").catch(() => {});
}
