/**
 * The answer check of the web-protocol cases. h2load counts any 2xx as a
 * success, and a gRPC-Web error is a 200 too (its status travels in the
 * body), so a count alone proves little: clients/check_web.mjs sends the
 * case's own request and checks the answer byte for byte, and the bench
 * then requires every h2load response to have been 2xx and h2load to have
 * received exactly that answer's body length per call (up to the calls cut
 * off when the load stopped). An error answer is shorter or longer than
 * the greeting, so wrong answers at any rate move the byte count.
 * @module
 */
import { join } from "node:path";
import { type BenchCase, caseBodyFile, WEB_NAME } from "./_cases.ts";
import { LOAD_CPU, run } from "./_process.ts";
import { NODE_DIR, ROOT } from "./_setup.ts";

/** What the check needs of an h2load run. */
export interface WebLoad {
  readonly calls: number;
  readonly non2xx?: number;
  readonly dataBytes?: number;
}

/**
 * Checks one answer with the web check client, then `load`'s status codes
 * and body bytes against it. Throws on a mismatch; resolves with what was
 * verified.
 */
export async function checkWebCase(
  benchCase: BenchCase,
  port: number,
  options: { node: string; tmp: string },
  load: WebLoad,
): Promise<string> {
  const bodyBytes = await answerBytes(benchCase, port, options);
  if (load.non2xx === undefined || load.dataBytes === undefined) {
    throw new Error("the load did not report status codes and body bytes");
  }
  if (load.non2xx !== 0) throw new Error(`h2load saw ${load.non2xx} responses that were not 2xx`);
  return `web client check ok (${bodyBytes}-byte answer); ` +
    verifyBodyBytes(benchCase, load.calls, load.dataBytes, bodyBytes);
}

/**
 * h2load's body bytes must be `bodyBytes` per succeeded call, plus at most
 * one answer per call in flight when the load stopped (c × m).
 */
export function verifyBodyBytes(
  benchCase: BenchCase,
  calls: number,
  dataBytes: number,
  bodyBytes: number,
): string {
  const slack = benchCase.connections * benchCase.streams;
  const low = calls * bodyBytes;
  const high = (calls + slack) * bodyBytes;
  if (dataBytes < low || dataBytes > high) {
    throw new Error(
      `h2load received ${dataBytes} body bytes for ${calls} calls; ` +
        `${bodyBytes} per call means ${low}..${high}`,
    );
  }
  return `h2load body bytes = ${bodyBytes} × calls`;
}

async function answerBytes(
  benchCase: BenchCase,
  port: number,
  options: { node: string; tmp: string },
): Promise<number> {
  const args = [
    String(port),
    benchCase.http,
    benchCase.protocol,
    `/${benchCase.service}/${benchCase.method}`,
    caseBodyFile(benchCase, options.tmp),
    WEB_NAME,
    JSON.stringify(benchCase.headers),
  ];
  const out = await run([options.node, join(NODE_DIR, "check_web.mjs"), ...args], {
    cpu: LOAD_CPU,
    timeoutMs: 30_000,
    cwd: ROOT,
  });
  const said = out.stdout.trim();
  const ok = /^ok (\d+)$/.exec(said);
  if (out.code !== 0 || !ok) throw new Error(`web check client: ${said || out.stderr.trim()}`);
  return Number(ok[1]);
}
