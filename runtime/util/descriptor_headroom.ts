/**
 * Guards module loads that happen after start against running out of file
 * descriptors. Deno 2.8.3 cannot load a module then: from source it panics
 * (stacker opens /proc/self/maps to size the stack; the failed open trips an
 * assertion and the process dies), from a bundle the import rejects. So a
 * lazy load first checks that a few descriptors are free, and refuses with
 * an ordinary error when they are not: the request fails, the process
 * lives, and the next use tries again (app/warm_lazy_modules.ts).
 * @module
 */

/**
 * Descriptors that must be free for a load to go ahead: the load opens a
 * few files one after another (the module, package.json files, /proc/self/maps),
 * and connections accepted meanwhile may take some.
 */
export const LOAD_HEADROOM = 8;

/**
 * True when `count` descriptors could be opened now. Opens and closes
 * /dev/null `count` times (microseconds). When reading /dev/null is not
 * permitted, it cannot tell and answers true (the load goes ahead as before).
 */
export function hasDescriptorHeadroom(count: number = LOAD_HEADROOM): boolean {
  if (!_mayProbe()) return true;
  const held: Deno.FsFile[] = [];
  try {
    for (let i = 0; i < count; i++) held.push(Deno.openSync("/dev/null"));
    return true;
  } catch (error) {
    return !isOutOfDescriptors(error);
  } finally {
    for (const file of held) file.close();
  }
}

/** True for EMFILE (the process's limit) and ENFILE (the system's). */
export function isOutOfDescriptors(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/**
 * A loader for a lazily loaded module: the first call (and each one after a
 * failure) loads it if descriptors are free, or rejects without loading;
 * once loaded, every call resolves to the module and checks nothing.
 *
 * @example
 * ```ts ignore
 * const loadCodec = lazyModule(() => import("./json_codec.ts"), "the JSON codec");
 * const { binaryToJson } = await loadCodec();
 * ```
 */
export function lazyModule<T>(load: () => Promise<T>, what: string): () => Promise<T> {
  let loaded: Promise<T> | null = null;
  return () =>
    loaded ??= (hasDescriptorHeadroom()
      ? load()
      : Promise.reject(outOfDescriptors(`out of file descriptors: cannot load ${what} now`)))
      .catch((error) => {
        // Not kept: the next use tries again.
        loaded = null;
        throw error;
      });
}

/**
 * An Error whose stack is its message alone. The call that gets it logs it
 * with its stack, and a stack V8 formats is mapped to the TypeScript source,
 * which out of descriptors can panic Deno 2.8.3 too (seen from source:
 * tests/fd_exhaustion_lazy_load_test.ts died on it until this was so).
 */
function outOfDescriptors(message: string): Error {
  const error = new Error(message);
  Object.defineProperty(error, "stack", { value: `Error: ${message}`, configurable: true });
  return error;
}

let _probe: boolean | undefined;

// Asked, not requested: a prompt at a terminal would stop the server.
function _mayProbe(): boolean {
  if (_probe === undefined) {
    try {
      _probe = Deno.permissions.querySync({ name: "read", path: "/dev/null" }).state === "granted";
    } catch {
      _probe = false;
    }
  }
  return _probe;
}
