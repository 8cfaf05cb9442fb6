/**
 * Assembles the root filesystem of the `FROM scratch` image: the binary, the
 * shared libraries `ldd` lists (and the dynamic loader), CA certificates,
 * `/etc/passwd` and `/etc/group` with a non-root user, and the config and
 * protos under `/etc/svc`. Nothing else: no shell, no /tmp, no
 * /etc/resolv.conf or /etc/hosts (the container runtime mounts those), no
 * locale files.
 *
 * The Dockerfile's build stage runs this file and the final stage is
 * `COPY --from=build /rootfs/ /`; tests/scratch_test.ts runs the same
 * function, so the file set it checks under chroot is the image's.
 *
 * ```sh
 * deno run -A runtime/cli/build/rootfs.ts --binary dist/svc --config config/svc.yaml --out /rootfs
 * ```
 * @module
 */
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../../config/mod.ts";
import { CONTAINER_CONFIG_FILE, containerConfig } from "./container_config.ts";
import { sharedLibraries } from "./ldd.ts";
import { CONTAINER_CONFIG_DIR } from "./permissions.ts";

/** The non-root user the image runs as (distroless's `nonroot`). */
export const CONTAINER_UID = 65532;
/** Where the binary goes in the image. */
export const CONTAINER_BINARY = "/svc";
/** Debian's CA bundle, where Deno's `DENO_TLS_CA_STORE=system` and OpenSSL look. */
export const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/** Options for {@link assembleRoot}. */
export interface RootOptions {
  /** Directory to fill; created if missing, and must be empty. */
  root: string;
  /** The binary to copy in (the built `svc`, or `deno` in the scratch test). */
  binary: string;
  /** Its path inside the root. Default `/svc`. */
  binaryPath?: string;
  /** The config whose protos and YAML go to `/etc/svc`. */
  config: string;
  /** Environment for config expansion. Default: the process's. */
  env?: Record<string, string>;
  /** CA bundle to copy. Default {@link CA_BUNDLE}; null leaves it out. */
  caBundle?: string | null;
}

/** What {@link assembleRoot} wrote. */
export interface AssembledRoot {
  /** Every file written, as absolute paths inside the root, sorted. */
  files: string[];
  /** The config file inside the root: `/etc/svc/config.yaml`. */
  config: string;
}

/**
 * Fills `root` with the image's file set (see the module doc). Files are
 * world-readable and owned by whoever runs this; the image's user only
 * reads them.
 *
 * @example
 * ```ts ignore
 * const { files } = await assembleRoot({ root: "/rootfs", binary: "dist/svc", config: "config/svc.yaml" });
 * ```
 */
export async function assembleRoot(options: RootOptions): Promise<AssembledRoot> {
  const { root } = options;
  await Deno.mkdir(root, { recursive: true, mode: 0o755 });
  // Anything already there would end up in the image unchecked.
  if (!(await Deno.readDir(root)[Symbol.asyncIterator]().next()).done) {
    throw new Error(`Cannot assemble into "${root}": not empty`);
  }
  // The user the image runs as must be able to traverse /.
  await Deno.chmod(root, 0o755);
  const files: string[] = [];
  const copy = async (from: string, to: string, mode: number) => {
    await Deno.mkdir(join(root, dirname(to)), { recursive: true, mode: 0o755 });
    // copyFile follows symlinks: the image gets the real library, not a dangling link.
    await Deno.copyFile(from, join(root, to));
    await Deno.chmod(join(root, to), mode);
    files.push(to);
  };
  const write = async (to: string, text: string) => {
    await Deno.mkdir(join(root, dirname(to)), { recursive: true, mode: 0o755 });
    await Deno.writeTextFile(join(root, to), text, { mode: 0o644 });
    await Deno.chmod(join(root, to), 0o644);
    files.push(to);
  };

  await copy(options.binary, options.binaryPath ?? CONTAINER_BINARY, 0o755);
  // The same paths as on the build machine: the binary names the loader by
  // absolute path, and the loader searches its built-in directories.
  for (const library of await sharedLibraries(options.binary)) await copy(library, library, 0o755);
  const ca = options.caBundle === undefined ? CA_BUNDLE : options.caBundle;
  if (ca) await copy(ca, CA_BUNDLE, 0o644);
  await write("/etc/passwd", passwd());
  await write("/etc/group", group());

  const config = await loadConfig(options.config, { env: options.env });
  const image = await containerConfig(config, await Deno.readTextFile(config.file));
  for (const dir of image.dirs) {
    await Deno.mkdir(join(root, CONTAINER_CONFIG_DIR, dir), { recursive: true, mode: 0o755 });
  }
  for (const { from, to } of image.copies) await copy(from, join(CONTAINER_CONFIG_DIR, to), 0o644);
  const configFile = join(CONTAINER_CONFIG_DIR, CONTAINER_CONFIG_FILE);
  await write(configFile, image.yaml);
  return { files: files.sort(), config: configFile };
}

/** `/etc/passwd`: root (for tools that look it up) and the non-root user. */
export function passwd(): string {
  return `root:x:0:0:root:/root:/sbin/nologin\n` +
    `nonroot:x:${CONTAINER_UID}:${CONTAINER_UID}:nonroot:/home/nonroot:/sbin/nologin\n`;
}

/** `/etc/group` to match {@link passwd}. */
export function group(): string {
  return `root:x:0:\nnonroot:x:${CONTAINER_UID}:\n`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      binary: { type: "string" },
      config: { type: "string", default: "config/svc.yaml" },
      out: { type: "string" },
    },
  });
  if (!values.binary || !values.out) {
    console.error("usage: rootfs.ts --binary FILE --out DIR [--config CONFIG]");
    Deno.exit(2);
  }
  const { files } = await assembleRoot({
    root: values.out,
    binary: values.binary,
    config: values.config,
  });
  console.log(files.join("\n"));
}
