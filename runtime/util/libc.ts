/**
 * glibc through FFI, for the few calls Deno has no API for (mallopt,
 * malloc_trim, madvise). One place decides when it can be had: Linux, FFI
 * permission (`svc run` under `deno run -A`; a compiled binary has none),
 * and a glibc to open (not musl or a static build).
 * @module
 */

/** libc with `symbols`, or why it cannot be had. */
export type Libc<S extends Deno.ForeignLibraryInterface> =
  | { readonly lib: Deno.DynamicLibrary<S> }
  | { readonly unavailable: "not Linux" | "no FFI permission" | "no glibc" };

/** Opens libc with `symbols`; the caller closes `lib`. Never throws. */
export function openLibc<const S extends Deno.ForeignLibraryInterface>(symbols: S): Libc<S> {
  if (Deno.build.os !== "linux") return { unavailable: "not Linux" };
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
      return { unavailable: "no FFI permission" };
    }
    return { lib: Deno.dlopen("libc.so.6", symbols) };
  } catch {
    return { unavailable: "no glibc" };
  }
}
