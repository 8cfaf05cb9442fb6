/**
 * Free TCP ports for processes that need their port chosen in advance
 * (etcd, benchmark servers). Not a test file.
 *
 * Asking the kernel for port 0 returns a port from the ephemeral range, the
 * same range it draws outgoing connections' source ports from. In a busy test
 * run another connection can take that port between our release and the
 * child's bind ("bind: address already in use"), and two calls in a row can
 * even return the same port. So ports come from below the ephemeral range,
 * are checked by binding, and are never handed out twice by one process.
 * @module
 */

const handedOut = new Set<number>();
const LOWEST = 10_000;

/** A TCP port on 127.0.0.1 that nothing listens on now and this process has not handed out. */
export function freePort(): number {
  const top = ephemeralLow() - 1;
  if (top - LOWEST >= 1_000) {
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = LOWEST + Math.floor(Math.random() * (top - LOWEST + 1));
      if (!handedOut.has(port) && bindable(port)) return handOut(port);
    }
  }
  // No room below the ephemeral range: fall back to the kernel's choice.
  for (let attempt = 0; attempt < 200; attempt++) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = listener.addr as Deno.NetAddr;
    listener.close();
    if (!handedOut.has(port)) return handOut(port);
  }
  throw new Error("no free TCP port found on 127.0.0.1");
}

function handOut(port: number): number {
  handedOut.add(port);
  return port;
}

function bindable(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** The first port of Linux's ephemeral range (32768 when it cannot be read). */
function ephemeralLow(): number {
  try {
    const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const low = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}
