/**
 * The address an instance publishes in the registry: what other services
 * should dial, which is not always what the server listens on.
 * @module
 */

/** Where the server listens, as the transport reports it. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Inputs of {@link resolveAdvertise}; everything but `address` has a default. */
export interface AdvertiseOptions {
  /** `registry.advertise`: `host:port`, `host` (the bound port is added), or "". */
  advertise: string;
  address: ListenAddress;
  /** Reads an environment variable. Default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Lists network interfaces. Default `Deno.networkInterfaces`. */
  interfaces?: () => Deno.NetworkInterfaceInfo[];
}

/**
 * Picks the `host:port` to publish, first match wins:
 * 1. `registry.advertise`, with the bound port added when it names none;
 * 2. `$POD_IP` (Kubernetes downward API) and the bound port;
 * 3. when listening on every interface (`0.0.0.0`, `::`, ""), the first
 *    non-loopback IPv4 address of this host, else `127.0.0.1`;
 * 4. the listen host itself.
 * IPv6 hosts are bracketed, as gRPC target strings need.
 *
 * @example
 * ```ts
 * resolveAdvertise({ advertise: "", address: { host: "0.0.0.0", port: 50051 } });
 * // "10.1.2.3:50051" on a host whose eth0 is 10.1.2.3
 * ```
 */
export function resolveAdvertise(options: AdvertiseOptions): string {
  const { address } = options;
  const env = options.env ?? ((name) => Deno.env.get(name));
  const configured = options.advertise.trim();
  if (configured !== "") {
    return _hasPort(configured) ? configured : joinHostPort(configured, address.port);
  }
  const podIp = env("POD_IP")?.trim();
  if (podIp) return joinHostPort(podIp, address.port);
  if (_WILDCARDS.has(address.host)) {
    return joinHostPort(_firstExternalIpv4(options.interfaces), address.port);
  }
  return joinHostPort(address.host, address.port);
}

/** `host:port`, bracketing an IPv6 host: `[::1]:50051`. */
export function joinHostPort(host: string, port: number): string {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  return bare.includes(":") ? `[${bare}]:${port}` : `${bare}:${port}`;
}

// --- private helpers ---------------------------------------------------------

const _WILDCARDS = new Set(["0.0.0.0", "::", "[::]", ""]);

/** True for `host:port` and `[v6]:port`; false for a bare host or bare IPv6. */
function _hasPort(value: string): boolean {
  if (value.startsWith("[")) return /\]:\d+$/.test(value);
  const colons = value.split(":").length - 1;
  return colons === 1 && /:\d+$/.test(value);
}

function _firstExternalIpv4(list?: () => Deno.NetworkInterfaceInfo[]): string {
  try {
    const found = (list ?? Deno.networkInterfaces)().find((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    );
    return found?.address ?? "127.0.0.1";
  } catch {
    // No --allow-sys, or no interfaces to read: loopback still works locally.
    return "127.0.0.1";
  }
}
