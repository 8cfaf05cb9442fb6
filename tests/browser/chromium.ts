/**
 * Headless Chromium (Debian's `chromium`) driven over the DevTools protocol,
 * for tests/web_browser_test.ts. Not a test file.
 *
 * Only what the test needs: launch a browser with a bounded lifetime, open a
 * page in a new target, evaluate expressions in it, collect what it logs
 * (console messages, uncaught exceptions, and the browser's own log, where
 * CORS refusals are reported), take a screenshot, and shut everything down.
 * The protocol runs over Deno's built-in WebSocket; every command has a
 * timeout, so a hung browser fails the test instead of stalling it.
 *
 * @example
 * ```ts ignore
 * await using browser = await launchChromium({ lifetimeMs: 45_000 });
 * const page = await browser.open("http://127.0.0.1:8000/");
 * const title = await page.evaluate<string>("document.title");
 * ```
 * @module
 */

/** Options for {@link launchChromium}. */
export interface LaunchOptions {
  /** The browser is killed after this long, whatever the test is doing. */
  lifetimeMs: number;
  /** Viewport of each page (and so of its screenshot). Default 1000×800. */
  viewport?: { width: number; height: number };
}

/** A running headless Chromium; `await using` closes it and removes its profile. */
export interface Browser extends AsyncDisposable {
  /** Opens `url` in a new tab and returns once the navigation has started. */
  open(url: string): Promise<BrowserPage>;
  /** The browser's stderr so far (for failure messages). */
  stderr(): string;
}

/** One tab. */
export interface BrowserPage {
  /** Evaluates `expression` in the page and returns its value (JSON-able values only). */
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the whole page. */
  screenshot(): Promise<Uint8Array>;
  /** Console messages, uncaught exceptions and browser log entries, in order. */
  log(): string[];
}

/** Where Debian installs the browser; the PATH is searched too. */
const DEFAULT_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
const COMMAND_TIMEOUT_MS = 10_000;

/** The chromium binary, or an error naming the package to install. */
export function findChromium(): string {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  for (const path of [...dirs.map((d) => `${d}/chromium`), ...DEFAULT_PATHS]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not here; try the next place.
    }
  }
  throw new Error(
    "headless Chromium is not installed: run `apt-get install chromium` (Debian's package; .ci/run installs it)",
  );
}

/** Starts headless Chromium on a free DevTools port and connects to it. */
export async function launchChromium(options: LaunchOptions): Promise<Browser> {
  const binary = findChromium();
  const profile = await Deno.makeTempDir({ prefix: "svc-chromium-" });
  const viewport = options.viewport ?? { width: 1000, height: 800 };
  const child = new Deno.Command(binary, {
    args: [
      "--headless",
      // The test runs as root (CI does), where Chromium's sandbox cannot start.
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      `--window-size=${viewport.width},${viewport.height}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      // Keep the tail only: a chatty browser must not grow the test's memory.
      stderr = (stderr + decoder.decode(chunk, { stream: true })).slice(-16_384);
    }
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const lifetime = setTimeout(() => kill("SIGKILL"), options.lifetimeMs);
  function kill(signal: Deno.Signal): void {
    if (exited) return;
    try {
      child.kill(signal);
    } catch {
      // Exited between the check and the kill.
    }
  }

  let devtools: DevTools | null = null;
  const close = async () => {
    clearTimeout(lifetime);
    if (devtools) {
      // A clean exit takes the renderer processes down with the browser.
      await devtools.send("Browser.close", {}, undefined, 3_000).catch(() => {});
      await devtools.close();
    }
    const timer = deadline(5_000);
    if (await Promise.race([status.then(() => true), timer.promise]) !== true) kill("SIGKILL");
    timer.cancel();
    await status;
    await stderrDone;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };

  try {
    const endpoint = await waitForEndpoint(profile, status, 20_000);
    devtools = await DevTools.connect(endpoint, COMMAND_TIMEOUT_MS);
  } catch (error) {
    await close();
    throw new Error(`Cannot start ${binary}: ${(error as Error).message}; stderr:\n${stderr}`);
  }
  const browser = devtools;
  return {
    open: (url) => openPage(browser, url, viewport),
    stderr: () => stderr,
    [Symbol.asyncDispose]: close,
  };
}

/** Chromium writes its port and the browser target's path to DevToolsActivePort once it listens. */
async function waitForEndpoint(
  profile: string,
  status: Promise<Deno.CommandStatus>,
  timeoutMs: number,
): Promise<string> {
  let gone = false;
  status.then(() => gone = true);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (gone) throw new Error("the browser exited before it listened");
    const text = await Deno.readTextFile(`${profile}/DevToolsActivePort`).catch(() => "");
    const [port, path] = text.split("\n");
    if (port && path) return `ws://127.0.0.1:${port.trim()}${path.trim()}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no DevToolsActivePort within ${timeoutMs} ms`);
}

async function openPage(
  devtools: DevTools,
  url: string,
  viewport: { width: number; height: number },
): Promise<BrowserPage> {
  const { targetId } = await devtools.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await devtools.send("Target.attachToTarget", { targetId, flatten: true });
  const log: string[] = [];
  devtools.onEvent(sessionId, (method, params) => {
    // deno-lint-ignore no-explicit-any
    const p = params as any;
    if (method === "Runtime.consoleAPICalled") {
      log.push(`console.${p.type}: ${p.args.map((a: { value?: unknown }) => a.value).join(" ")}`);
    } else if (method === "Runtime.exceptionThrown") {
      log.push(
        `exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`,
      );
    } else if (method === "Log.entryAdded") {
      log.push(`${p.entry.source} ${p.entry.level}: ${p.entry.text}`);
    }
  });
  for (const domain of ["Runtime", "Log", "Page"]) {
    await devtools.send(`${domain}.enable`, {}, sessionId);
  }
  await devtools.send("Emulation.setDeviceMetricsOverride", {
    ...viewport,
    deviceScaleFactor: 1,
    mobile: false,
  }, sessionId);
  const navigation = await devtools.send("Page.navigate", { url }, sessionId);
  if (navigation.errorText) throw new Error(`Cannot open ${url}: ${navigation.errorText}`);
  return {
    async evaluate<T>(expression: string): Promise<T> {
      const answer = await devtools.send("Runtime.evaluate", {
        expression,
        returnByValue: true,
        awaitPromise: true,
      }, sessionId);
      if (answer.exceptionDetails) {
        throw new Error(
          `${expression}: ${
            answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text
          }`,
        );
      }
      return answer.result.value as T;
    },
    async screenshot(): Promise<Uint8Array> {
      const { data } = await devtools.send("Page.captureScreenshot", {
        format: "png",
        captureBeyondViewport: true,
      }, sessionId);
      return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    },
    log: () => [...log],
  };
}

/** A command's answer: protocol JSON, read field by field where used. */
// deno-lint-ignore no-explicit-any
type DevToolsAnswer = any;

/** A minimal DevTools protocol client over one WebSocket (flat sessions). */
class DevTools {
  #socket: WebSocket;
  #nextId = 1;
  // deno-lint-ignore no-explicit-any
  #pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  #listeners = new Map<string, (method: string, params: unknown) => void>();
  #closed: Promise<void>;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    this.#closed = new Promise((resolve) => socket.addEventListener("close", () => resolve()));
    socket.addEventListener("close", () => {
      for (const { reject } of this.#pending.values()) {
        reject(new Error("DevTools connection closed"));
      }
      this.#pending.clear();
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      if (typeof message.id === "number") {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result);
      } else if (message.sessionId) {
        this.#listeners.get(message.sessionId)?.(message.method, message.params);
      }
    });
  }

  static async connect(url: string, timeoutMs: number): Promise<DevTools> {
    const socket = new WebSocket(url);
    const timer = deadline(timeoutMs);
    const opened = new Promise<boolean>((resolve) => {
      socket.addEventListener("open", () => resolve(true));
      socket.addEventListener("error", () => resolve(false));
    });
    const ok = await Promise.race([opened, timer.promise]);
    timer.cancel();
    if (ok !== true) {
      socket.close();
      throw new Error(`Cannot connect to ${url}`);
    }
    return new DevTools(socket);
  }

  /** Sends a command (to a page when `sessionId` is set) and waits up to `timeoutMs` for its answer. */
  send(
    method: string,
    params: unknown,
    sessionId?: string,
    timeoutMs = COMMAND_TIMEOUT_MS,
  ): Promise<DevToolsAnswer> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`DevTools ${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(new Error(`DevTools ${method}: ${e.message}`));
        },
      });
      try {
        this.#socket.send(JSON.stringify({ id, method, params, sessionId }));
      } catch (error) {
        this.#pending.get(id)?.reject(error as Error);
        this.#pending.delete(id);
      }
    });
  }

  onEvent(sessionId: string, listener: (method: string, params: unknown) => void): void {
    this.#listeners.set(sessionId, listener);
  }

  /** Closes the socket and waits (bounded) for the close to finish. */
  async close(): Promise<void> {
    if (this.#socket.readyState !== WebSocket.CLOSED) this.#socket.close();
    const timer = deadline(3_000);
    await Promise.race([this.#closed, timer.promise]);
    timer.cancel();
  }
}

/** A promise that resolves to `undefined` after `ms`, and can be cancelled (so no timer leaks). */
function deadline(ms: number): { promise: Promise<undefined>; cancel(): void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<undefined>((resolve) =>
    id = setTimeout(() => resolve(undefined), ms)
  );
  return { promise, cancel: () => clearTimeout(id) };
}
