/**
 * Keeps a node:net listener alive. On Deno 2.8.3, when accepting a
 * connection fails (EMFILE: out of file descriptors; ENFILE; ENOMEM) the
 * node:net server stops accepting without a word: `listening` stays true,
 * no "error" or "close" is emitted, the socket stays in LISTEN, and every
 * later client is left waiting in the kernel's backlog (or refused), for
 * good, although the process reports healthy (issue 19). So the listener is probed: every
 * {@link PROBE_MS} a loopback connection is made to it and closed at once,
 * and the listener's owner counts what it accepts. Refused, or connected
 * but never accepted, means the listener is gone or stuck: it is bound
 * again. Out of descriptors means nothing can be accepted now: reported
 * (for `/readyz`) until a probe succeeds.
 * @module
 */
import { connect } from "node:net";
import { portBacklog } from "./listen_backlog.ts";

/** How often the listener is probed. */
export const PROBE_MS = 2_000;
/** A probe that neither connects nor fails within this long counts as a failure. */
const PROBE_TIMEOUT_MS = 1_000;

/** What a probe found. */
export type ListenerState = "accepting" | "rebinding" | "out of file descriptors";

/** Options for {@link watchListener}. */
export interface ListenerWatchOptions {
  /** The bound host (a wildcard is probed on loopback) and port. */
  host: string;
  port: number;
  /** Binds the listener again; rejects if it cannot (the next probe tries again). */
  rebind: () => Promise<void>;
  /** How many connections the listener has handed over so far. */
  accepted: () => number;
  /** Told of every change of state, with the error that caused it. */
  onState: (state: ListenerState, error?: unknown) => void;
  /** Default {@link PROBE_MS}. */
  intervalMs?: number;
  /**
   * The port is shared with other listeners (SO_REUSEPORT, `server.workers`):
   * the kernel may hand the probe to another one, so a probe this listener
   * did not accept proves nothing by itself. Then the listener is bound
   * again when it has accepted nothing for three probes in a row while
   * connections wait in the port's accept queues (`backlog`), or when a
   * probe is refused (every listener gone). Default false.
   */
  shared?: boolean;
  /** Connections queued on the port's listeners, or null if unknown; default util/listen_backlog.ts. */
  backlog?: () => number | null;
}

/** A running watch; `state` is the last probe's finding. */
export interface ListenerWatch {
  readonly state: ListenerState;
  stop(): void;
}

/**
 * Probes the listener at `host:port` until stopped.
 *
 * @example
 * ```ts ignore
 * const watch = watchListener({ host: "0.0.0.0", port, rebind, onState: (s) => log.warn(s) });
 * watch.stop();
 * ```
 */
export function watchListener(options: ListenerWatchOptions): ListenerWatch {
  const host = options.host === "0.0.0.0" || options.host === ""
    ? "127.0.0.1"
    : options.host === "::"
    ? "::1"
    : options.host;
  let state: ListenerState = "accepting";
  let busy = false;
  let unaccepted = 0;
  let acceptedBefore = options.accepted();
  const backlog = options.backlog ?? (() => portBacklog(options.port));
  /**
   * Shared port: whether this listener took nothing since the last probe
   * while connections wait in the port's queues. A live listener drains its
   * queue within milliseconds; Deno's dead one keeps its socket in LISTEN and
   * its share of connections queued there (util/listen_backlog.ts). Read
   * only when this listener accepted nothing, so busy workers never read it.
   */
  const stalled = (): boolean => {
    const accepted = options.accepted();
    const tookSome = accepted > acceptedBefore;
    acceptedBefore = accepted;
    return !tookSome && (backlog() ?? 0) > 0;
  };
  const set = (next: ListenerState, error?: unknown) => {
    if (next === state) return;
    state = next;
    options.onState(next, error);
  };
  const probe = async () => {
    if (busy) return;
    busy = true;
    try {
      let outcome = await probeOnce(host, options.port, options.accepted);
      if (options.shared && (outcome === "ok" || outcome === "unaccepted")) {
        outcome = stalled() ? "unaccepted" : "ok";
      }
      // Connected but not accepted may also be an event loop too busy to accept in
      // time: only three in a row count, so an overloaded process keeps its backlog.
      unaccepted = outcome === "unaccepted" ? unaccepted + 1 : 0;
      if (outcome === "ok") set("accepting");
      else if (outcome === "refused" || unaccepted >= 3) {
        unaccepted = 0;
        set("rebinding");
        await options.rebind().then(
          () => set("accepting"),
          (error) => options.onState(state, error),
        );
      } else if (outcome instanceof Error) set("out of file descriptors", outcome);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(probe, options.intervalMs ?? PROBE_MS);
  Deno.unrefTimer(timer);
  return {
    get state() {
      return state;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * "ok" once the listener accepted the probe, "refused" when it is gone,
 * "unaccepted" when it connected but was not accepted in time, or the
 * error that stopped the probe (EMFILE).
 */
function probeOnce(
  host: string,
  port: number,
  accepted: () => number,
): Promise<"ok" | "refused" | "unaccepted" | Error> {
  const before = accepted();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let poll: ReturnType<typeof setInterval> | undefined;
    const timer = setTimeout(() => done("unaccepted"), PROBE_TIMEOUT_MS);
    const done = (outcome: "ok" | "refused" | "unaccepted" | Error) => {
      clearTimeout(timer);
      clearInterval(poll);
      socket.removeAllListeners();
      socket.on("error", () => {});
      socket.destroy();
      resolve(outcome);
    };
    socket.once("connect", () => {
      // Connected is not accepted: the kernel completes handshakes into the backlog.
      poll = setInterval(() => {
        if (accepted() > before) done("ok");
      }, 10);
    });
    socket.once(
      "error",
      (error: NodeJS.ErrnoException) => done(error.code === "ECONNREFUSED" ? "refused" : error),
    );
  });
}
