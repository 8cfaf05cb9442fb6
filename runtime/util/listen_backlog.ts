/**
 * How many connections wait, unaccepted, in the kernel's accept queues of
 * the listening TCP sockets on one port (Linux, /proc/net/tcp and tcp6).
 *
 * With `server.workers`, every worker's listener shares the port
 * (SO_REUSEPORT) and the kernel gives each new connection to one of them.
 * A listener whose accept loop Deno 2.8.3 has ended (EMFILE) keeps its
 * socket in LISTEN, so its share of the connections queues there for
 * good, and a loopback probe proves nothing because another worker may
 * take it. A queue that stays non-empty while a worker accepts nothing
 * is what gives such a listener away (util/listener_watch.ts).
 *
 * The kernel lists listening sockets before all others, so the read stops
 * at the first socket in another state: its cost does not grow with the
 * number of open connections.
 * @module
 */

const FILES = ["/proc/net/tcp", "/proc/net/tcp6"];
/** `st` of a listening socket. */
const LISTEN = "0A";
const CHUNK_BYTES = 16 * 1024;

/**
 * Connections queued on `port`'s listening sockets, summed over IPv4 and
 * IPv6, or null where /proc cannot be read (not Linux, no permission).
 *
 * @example
 * ```ts ignore
 * const queued = portBacklog(50051); // 0 while every listener keeps up
 * ```
 */
export function portBacklog(port: number, files: readonly string[] = FILES): number | null {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let total = 0;
  let readAny = false;
  for (const file of files) {
    const queued = backlogIn(file, suffix);
    if (queued === null) continue;
    readAny = true;
    total += queued;
  }
  return readAny ? total : null;
}

/** The sum of rx_queue over LISTEN lines whose local address ends in `suffix`. */
function backlogIn(file: string, suffix: string): number | null {
  let handle: Deno.FsFile;
  try {
    handle = Deno.openSync(file);
  } catch {
    return null;
  }
  try {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(CHUNK_BYTES);
    let pending = "";
    let header = true;
    let total = 0;
    for (;;) {
      const n = handle.readSync(buffer);
      if (n === null || n === 0) return total;
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        // sl local_address rem_address st tx_queue:rx_queue ...
        const fields = line.trim().split(/\s+/);
        if (fields[3] !== LISTEN) return total;
        if (fields[1].endsWith(suffix)) total += parseInt(fields[4].split(":")[1], 16);
      }
    }
  } catch {
    return null;
  } finally {
    handle.close();
  }
}
