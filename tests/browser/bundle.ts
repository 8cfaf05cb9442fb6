/**
 * Builds the browser page of tests/web_browser_test.ts at test time: protoc
 * compiles proto/helloworld.proto to a descriptor set, and esbuild (from
 * npm) bundles tests/browser/page.ts with @connectrpc/connect-web and that
 * descriptor set into one ES module, `page.js`, next to a copy of
 * index.html. Not a test file.
 *
 * esbuild resolves the page's bare imports from the repository's
 * node_modules, which Deno fills (`"nodeModulesDir": "auto"`) with every
 * npm package the code it runs imports: the test file imports
 * @connectrpc/connect-web for that reason.
 * @module
 */
import * as esbuild from "esbuild";
import { base64Encode } from "@bufbuild/protobuf/wire";

/** The built page's files, by URL path. */
export interface BuiltPage {
  "/": Uint8Array<ArrayBuffer>;
  "/page.js": Uint8Array<ArrayBuffer>;
}

/** Builds the page from the repository at `root`; `tmp` holds protoc's output while it runs. */
export async function buildPage(root: string, tmp: string): Promise<BuiltPage> {
  const descriptorSet = await compileGreeter(root, `${tmp}/greeter.pb`);
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      entryPoints: [`${root}/tests/browser/page.ts`],
      absWorkingDir: root,
      bundle: true,
      write: false, // outfile only names the output; it stays in memory
      outfile: `${tmp}/page.js`,
      format: "esm",
      platform: "browser",
      target: "es2022",
      logLevel: "silent",
      define: { GREETER_DESCRIPTOR_SET: JSON.stringify(base64Encode(descriptorSet)) },
    });
  } finally {
    // The JS API keeps an esbuild child process for later builds; end it,
    // so no process outlives the test.
    await esbuild.stop();
  }
  const script = result.outputFiles.find((f) => f.path.endsWith(".js"));
  if (!script) throw new Error("esbuild produced no JavaScript for tests/browser/page.ts");
  return {
    "/": await Deno.readFile(`${root}/tests/browser/index.html`),
    "/page.js": new Uint8Array(script.contents),
  };
}

async function compileGreeter(root: string, out: string): Promise<Uint8Array> {
  const child = new Deno.Command("protoc", {
    args: [
      "--include_imports",
      `--descriptor_set_out=${out}`,
      `-I${root}/proto`,
      `${root}/proto/helloworld.proto`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  try {
    const { code, stderr } = await child.output();
    if (code !== 0) {
      throw new Error(
        `protoc failed on proto/helloworld.proto: ${new TextDecoder().decode(stderr)}`,
      );
    }
  } finally {
    clearTimeout(timer);
  }
  return await Deno.readFile(out);
}
