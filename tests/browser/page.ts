/**
 * The page tests/web_browser_test.ts opens in headless Chromium: a browser
 * client of svc built from @connectrpc/connect-web (bundled with esbuild at
 * test time), served from another origin than svc's, so every call is a
 * real cross-origin fetch with a CORS preflight.
 *
 * It reads `svc` (svc's base URL) and `token` (a bearer token the auth
 * example accepts) from its query string, then with the Connect transport
 * (JSON) and the gRPC-Web transport (binary) makes: a unary SayHello with
 * the token, a server-streaming LotsOfReplies with the token, and a SayHello
 * without it, which the auth middleware must reject with UNAUTHENTICATED.
 * The outcomes go into `<pre id="result">` as JSON for the test, and into a
 * table for the screenshot; `document.title` becomes "done" last.
 *
 * Not a Deno module at run time: it only runs in the browser. It avoids the
 * DOM type library (so `deno check tests/` keeps Deno's own types) by
 * describing the few DOM members it uses below.
 * @module
 */
import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import {
  createFileRegistry,
  type DescMessage,
  fromBinary,
  type Message,
  toJson,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { base64Decode } from "@bufbuild/protobuf/wire";

/**
 * proto/helloworld.proto as a base64 FileDescriptorSet, made by protoc when
 * the test bundles the page and put here by esbuild's `define`: the page
 * follows the .proto without a code generation step.
 */
declare const GREETER_DESCRIPTOR_SET: string;

/** What one call did, as plain data the test compares. */
export interface CallOutcome {
  /** Replies as canonical JSON (`{ message: "..." }`). */
  messages: unknown[];
  /** The ConnectError the call ended with; null on success. */
  error: { code: number; message: string } | null;
}

/** The three calls made on one transport. */
export interface TransportOutcome {
  unary: CallOutcome;
  stream: CallOutcome;
  unauthenticated: CallOutcome;
}

/** The JSON the page writes into `#result`. */
export interface PageSummary {
  /** The page's own origin, as the browser sees it. */
  origin: string;
  /** svc's base URL, from the query string. */
  svc: string;
  transports: Record<"connect" | "grpcWeb", TransportOutcome>;
  /** Set when the page itself failed (bad query string, bad descriptors). */
  fatal?: string;
}

/** The DOM members this page uses (see the module comment for why not lib.dom). */
interface PageDocument {
  title: string;
  getElementById(id: string): { textContent: string | null; innerHTML: string } | null;
}
const doc = (globalThis as unknown as { document: PageDocument }).document;

/** The two Greeter methods the page calls; descriptors alone give connect-es no method types. */
interface GreeterClient {
  sayHello(request: { name: string }, options: CallOptions): Promise<unknown>;
  lotsOfReplies(request: { name: string }, options: CallOptions): AsyncIterable<unknown>;
}
type CallOptions = { headers?: Record<string, string>; timeoutMs: number };

/** Long enough for a slow CI machine, short enough that the page always finishes. */
const CALL_TIMEOUT_MS = 8_000;

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const svc = params.get("svc") ?? "";
  const token = params.get("token") ?? "";
  const summary: PageSummary = {
    origin: location.origin,
    svc,
    transports: { connect: emptyOutcome(), grpcWeb: emptyOutcome() },
  };
  try {
    if (!svc || !token) throw new Error('the query string needs "svc" and "token"');
    const registry = createFileRegistry(
      fromBinary(FileDescriptorSetSchema, base64Decode(GREETER_DESCRIPTOR_SET)),
    );
    const greeter = registry.getService("helloworld.Greeter");
    const reply = registry.getMessage("helloworld.HelloReply");
    if (!greeter || !reply) throw new Error("helloworld.Greeter is not in the descriptor set");
    const transports: Record<keyof PageSummary["transports"], Transport> = {
      // The Connect protocol with JSON bodies: the usual choice in browsers.
      connect: createConnectTransport({ baseUrl: svc, useBinaryFormat: false }),
      grpcWeb: createGrpcWebTransport({ baseUrl: svc, useBinaryFormat: true }),
    };
    for (const name of ["connect", "grpcWeb"] as const) {
      const client = createClient(greeter, transports[name]) as unknown as GreeterClient;
      const withToken = { headers: { authorization: `Bearer ${token}` } };
      summary.transports[name] = {
        unary: await outcome(
          reply,
          async () => [await client.sayHello({ name: "Ada" }, options(withToken))],
        ),
        stream: await outcome(reply, async () => {
          const replies = [];
          for await (const m of client.lotsOfReplies({ name: "Bo" }, options(withToken))) {
            replies.push(m);
          }
          return replies;
        }),
        unauthenticated: await outcome(
          reply,
          async () => [await client.sayHello({ name: "Eve" }, options({}))],
        ),
      };
    }
  } catch (error) {
    summary.fatal = String(error);
  }
  render(summary);
}

function options(extra: { headers?: Record<string, string> }): CallOptions {
  return { ...extra, timeoutMs: CALL_TIMEOUT_MS };
}

async function outcome(schema: DescMessage, call: () => Promise<unknown[]>): Promise<CallOutcome> {
  try {
    const messages = (await call()).map((m) =>
      toJson(schema, m as Message, { alwaysEmitImplicit: true })
    );
    return { messages, error: null };
  } catch (error) {
    // A blocked cross-origin fetch surfaces here too: connect-web turns the
    // fetch's TypeError into a ConnectError.
    const e = ConnectError.from(error);
    return { messages: [], error: { code: e.code, message: e.rawMessage } };
  }
}

function emptyOutcome(): TransportOutcome {
  const none = (): CallOutcome => ({ messages: [], error: null });
  return { unary: none(), stream: none(), unauthenticated: none() };
}

/** The JSON for the test, a table for the screenshot, then the title the test waits for. */
function render(summary: PageSummary): void {
  const result = doc.getElementById("result");
  if (result) result.textContent = JSON.stringify(summary, null, 2);
  const rows: string[] = [];
  for (const transport of ["connect", "grpcWeb"] as const) {
    for (const call of ["unary", "stream", "unauthenticated"] as const) {
      const o: CallOutcome = summary.transports[transport][call];
      const cell = o.error
        ? escape(`error ${o.error.code}: ${o.error.message}`)
        : o.messages.map((m: unknown) =>
          escape((m as { message?: string }).message ?? JSON.stringify(m))
        )
          .join("<br>");
      rows.push(
        `<tr class="${o.error ? "error" : "ok"}"><td>${transport}</td><td>${call}</td>` +
          `<td>${cell}</td></tr>`,
      );
    }
  }
  const view = doc.getElementById("view");
  if (view) {
    view.innerHTML =
      `<p>page origin <b>${escape(summary.origin)}</b> → svc <b>${escape(summary.svc)}</b></p>` +
      (summary.fatal ? `<p class="error">page failed: ${escape(summary.fatal)}</p>` : "") +
      `<table><tr><th>transport</th><th>call</th><th>outcome</th></tr>${rows.join("")}</table>`;
  }
  doc.title = "done";
}

function escape(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

main();
