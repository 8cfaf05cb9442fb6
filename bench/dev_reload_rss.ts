/**
 * RSS of a `svc dev` process over many reloads (docs/development.md#development-loop):
 *
 *   deno run -A bench/dev_reload_rss.ts [RELOADS]   # default 100
 *
 * Starts `svc dev` on a copy of tests/fixtures/dev, warms up with 5
 * reloads, then: RELOADS edits of handlers/echo.ts (each a new module
 * version, through the file watch), measured twice in a row, and RELOADS
 * SIGHUPs with nothing changed (the reload itself, no new module). Prints
 * VmRSS after each phase; each edit is confirmed by a call answering the new
 * text.
 * @module
 */
import { join } from "node:path";
import { grpcClient, unary } from "../tests/_harness.ts";
import { copyDevFixture, rssBytes, startDev, until } from "../tests/_dev.ts";

const reloads = Number(Deno.args[0] ?? 100);
await using fixture = await copyDevFixture();
await using svc = await startDev(fixture.dir);
const client = grpcClient([join(fixture.dir, "proto/dev.proto")]).makeClient("dev.Echo", svc.port);
const source = await fixture.read("handlers/echo.ts");
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const say = async () => (await unary<{ text: string }>(client, "say", { text: "x" })).text;

let edits = 0;
async function edit(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const version = `e${++edits}`;
    await fixture.write("handlers/echo.ts", source.replace('"v1"', `"${version}"`));
    await until(async () => await say() === `${version}:x`, `edit ${edits}`);
  }
}
async function hangups(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const seen = svc.logs().filter((l) => l.msg === "reloaded").length;
    await svc.signal("SIGHUP");
    await until(() => svc.logs().filter((l) => l.msg === "reloaded").length > seen, "SIGHUP");
  }
}

try {
  console.log(`start            ${mib(await rssBytes(svc.pid))}`);
  await edit(5);
  const warm = await rssBytes(svc.pid);
  console.log(`after warm-up    ${mib(warm)}`);
  await edit(reloads);
  const first = await rssBytes(svc.pid);
  console.log(`+${reloads} edits       ${mib(first)}  (+${mib(first - warm)})`);
  await edit(reloads);
  const second = await rssBytes(svc.pid);
  console.log(`+${reloads} more edits  ${mib(second)}  (+${mib(second - first)})`);
  await hangups(reloads);
  const third = await rssBytes(svc.pid);
  console.log(`+${reloads} SIGHUPs     ${mib(third)}  (+${mib(third - second)})`);
} finally {
  client.close();
}
