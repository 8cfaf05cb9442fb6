/**
 * CORS for the web protocols: a decorator around the web handler that
 * answers preflights itself and adds the CORS response headers browsers
 * need to read a cross-origin gRPC-Web or Connect answer. Applied only when
 * `server.web.cors.allowedOrigins` is non-empty (the caller checks), so
 * with CORS off it costs nothing and sends no CORS header.
 *
 * The allowed and exposed header lists start from the ones connect-es
 * publishes in `@connectrpc/connect`'s `cors` helper, so its browser
 * clients (and grpc-web's) work without configuration. The configured
 * lists only add to them: handler metadata goes out as plain response
 * headers and Connect unary trailers as `trailer-<name>` headers, and
 * which of those a script should read is the user's to say.
 *
 * A request the origin list refuses is still served, without CORS headers:
 * the browser then withholds the answer from the script, which is where
 * CORS is enforced. A refused preflight is answered 204 without CORS
 * headers too (as rs/cors does, the middleware connect-go recommends): the
 * browser's verdict rests only on those headers, and one uniform status
 * keeps refusals from being told apart from plain OPTIONS requests.
 *
 * What the HTTP layer answers without the handler (431, 413, 408, the 500
 * for a handler that threw) carries no CORS headers, so a script sees
 * those as network errors.
 * @module
 */
import type { ResolvedWebCors } from "../../config/types.ts";
import type { Http1Handler, Http1Request, Http1ResponseWriter } from "../http1/mod.ts";

/** Request headers the Connect and gRPC-Web browser clients send (connect-es `cors.allowedHeaders`). */
export const BUILTIN_ALLOWED_HEADERS: readonly string[] = [
  "Content-Type",
  "Connect-Protocol-Version",
  "Connect-Timeout-Ms",
  "Connect-Content-Encoding",
  "Connect-Accept-Encoding",
  "Content-Encoding",
  "Accept-Encoding",
  "Grpc-Message-Type",
  "X-Grpc-Web",
  "X-User-Agent",
  "Grpc-Timeout",
];

/** Response headers those clients must read (connect-es `cors.exposedHeaders`). */
export const BUILTIN_EXPOSED_HEADERS: readonly string[] = [
  "Grpc-Status",
  "Grpc-Message",
  "Grpc-Status-Details-Bin",
  "Content-Encoding",
  "Connect-Content-Encoding",
];

/** Methods the web protocols use: POST for all, GET for Connect GET. */
export const ALLOWED_METHODS: readonly string[] = ["POST", "GET"];

type HeaderList = readonly (readonly [string, string])[];

// A preflight's answer depends on all three; a cache must key on them.
const PREFLIGHT_VARY: readonly [string, string] = [
  "vary",
  "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
];

/** What is fixed once per config, so a request only picks and copies. */
interface CorsPlan {
  /** Lower-cased allowed origins; null when any origin is allowed. */
  readonly origins: ReadonlySet<string> | null;
  /** Access-Control-Allow-Origin is `*` itself (any origin, no credentials). */
  readonly literalStar: boolean;
  /** Added after Access-Control-Allow-Origin to an allowed preflight. */
  readonly preflight: HeaderList;
  /** Added after Access-Control-Allow-Origin to an allowed actual response. */
  readonly actual: HeaderList;
  /** Added to a response whatever the origin: its CORS headers depend on the origin. */
  readonly vary: HeaderList;
}

/**
 * Wraps `handler` so browsers on `cors.allowedOrigins` may call it:
 * preflights are answered here (the inner handler never sees an OPTIONS
 * request), other responses from an allowed origin get
 * Access-Control-Allow-Origin and -Expose-Headers. Only apply it when
 * `cors.allowedOrigins` is non-empty.
 *
 * @example
 * ```ts
 * const handler = withCors(createWebHandler(options), server.web.cors);
 * new Http1Connection(socket, sniffed, handler, limits);
 * ```
 */
export function withCors(handler: Http1Handler, cors: ResolvedWebCors): Http1Handler {
  const plan = corsPlan(cors);
  return function serveWithCors(request, response) {
    if (request.method === "OPTIONS") return answerOptions(plan, request, response);
    const allowOrigin = allowedOrigin(plan, request.headers.get("origin"));
    const added = allowOrigin === null
      ? plan.vary
      : [["access-control-allow-origin", allowOrigin] as const, ...plan.actual];
    if (added.length === 0) return handler(request, response);
    return handler(request, new CorsResponseWriter(response, added));
  };
}

function corsPlan(cors: ResolvedWebCors): CorsPlan {
  const any = cors.allowedOrigins.includes("*");
  const literalStar = any && !cors.allowCredentials;
  const credentials: HeaderList = cors.allowCredentials
    ? [["access-control-allow-credentials", "true"]]
    : [];
  // With a literal `*` the answer is the same for every origin; otherwise it
  // names the origin (or is absent), and a shared cache must not mix them up.
  const vary: HeaderList = literalStar ? [] : [["vary", "Origin"]];
  return {
    origins: any ? null : new Set(cors.allowedOrigins.map((o) => o.toLowerCase())),
    literalStar,
    preflight: [
      ["access-control-allow-methods", ALLOWED_METHODS.join(", ")],
      ["access-control-allow-headers", mergeNames(BUILTIN_ALLOWED_HEADERS, cors.allowedHeaders)],
      ["access-control-max-age", String(Math.floor(cors.maxAge / 1000))],
      ...credentials,
      PREFLIGHT_VARY,
    ],
    actual: [
      ["access-control-expose-headers", mergeNames(BUILTIN_EXPOSED_HEADERS, cors.exposedHeaders)],
      ...credentials,
      ...vary,
    ],
    vary,
  };
}

/** The Access-Control-Allow-Origin value for `origin`, or null when it is not allowed. */
function allowedOrigin(plan: CorsPlan, origin: string | null): string | null {
  if (origin === null) return null;
  if (plan.origins === null) return plan.literalStar ? "*" : origin;
  return plan.origins.has(origin.toLowerCase()) ? origin : null;
}

/**
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) gets
 * the CORS answer when its origin and method are allowed, and a bare 204
 * otherwise; any other OPTIONS gets 204 with `allow` (RFC 9110 §9.3.7).
 * The request headers a preflight asks for are not checked here: the
 * browser compares them with Access-Control-Allow-Headers itself.
 */
async function answerOptions(
  plan: CorsPlan,
  request: Http1Request,
  response: Http1ResponseWriter,
): Promise<void> {
  const method = request.headers.get("access-control-request-method");
  const origin = request.headers.get("origin");
  if (method === null || origin === null) {
    response.writeHead(204, [["allow", [...ALLOWED_METHODS, "OPTIONS"].join(", ")]]);
    return await response.end();
  }
  const allowOrigin = ALLOWED_METHODS.includes(method) ? allowedOrigin(plan, origin) : null;
  if (allowOrigin === null) {
    response.writeHead(204, [PREFLIGHT_VARY]);
    return await response.end();
  }
  response.writeHead(204, [["access-control-allow-origin", allowOrigin], ...plan.preflight]);
  await response.end();
}

/** `base` then the `extra` names not already in it (case-insensitively), comma-separated. */
function mergeNames(base: readonly string[], extra: readonly string[]): string {
  const seen = new Set(base.map((name) => name.toLowerCase()));
  const names = [...base];
  for (const name of extra) {
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    names.push(name);
  }
  return names.join(", ");
}

/**
 * Passes everything to `inner`, adding `added` to the head: in writeHead,
 * or in the implied `writeHead(200, [])` of a first write or end.
 */
class CorsResponseWriter implements Http1ResponseWriter {
  readonly #inner: Http1ResponseWriter;
  readonly #added: HeaderList;
  /** writeHead was called: the head is set, though not sent before the first write or end. */
  #headWritten = false;

  constructor(inner: Http1ResponseWriter, added: HeaderList) {
    this.#inner = inner;
    this.#added = added;
  }

  get headSent(): boolean {
    return this.#inner.headSent;
  }

  writeHead(status: number, headers: HeaderList): void {
    this.#headWritten = true;
    this.#inner.writeHead(status, [...headers, ...this.#added]);
  }

  write(chunk: Uint8Array): Promise<void> {
    if (!this.#headWritten) this.writeHead(200, []);
    return this.#inner.write(chunk);
  }

  end(): Promise<void> {
    if (!this.#headWritten) this.writeHead(200, []);
    return this.#inner.end();
  }
}
