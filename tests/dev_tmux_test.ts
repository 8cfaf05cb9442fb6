/**
 * `svc dev` in a real terminal (tmux): `svc init demo && cd demo && svc
 * dev`, edit the handler, see the reload line in the pane; Ctrl-C, see a
 * clean exit with no stack trace and no "unhandled" line.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAIN_TS } from "./_harness.ts";
import { until } from "./_dev.ts";

const TMUX = "/usr/bin/tmux";

async function tmuxMissing(): Promise<string | null> {
  try {
    const { code } = await new Deno.Command(TMUX, { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    return code === 0 ? null : "tmux -V failed";
  } catch {
    return `${TMUX} not found`;
  }
}

const skip = await tmuxMissing();
if (skip) console.log(`dev_tmux_test: skipped: ${skip}`);

Deno.test({
  name: "svc dev in a terminal: init, edit, reload line, Ctrl-C exits cleanly",
  ignore: skip !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "svc-dev-tmux-" });
    // A server of its own, so the test never touches the user's tmux.
    const socket = `svc-dev-test-${Deno.pid}`;
    const tmux = async (...args: string[]) => {
      const out = await new Deno.Command(TMUX, { args: ["-L", socket, ...args], cwd: dir })
        .output();
      return new TextDecoder().decode(out.stdout);
    };
    const pane = () => tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", "dev");
    try {
      await tmux("new-session", "-d", "-s", "dev", "-x", "200", "-y", "50", "-c", dir, "sh");
      // Ports 0: the demo's 50051 and 9090 may be taken on a shared machine.
      const svc = `SVC_SERVER_PORT=0 SVC_ADMIN_PORT=0 ${Deno.execPath()} run -A ${MAIN_TS}`;
      await tmux(
        "send-keys",
        "-t",
        "dev",
        `${svc} init demo && cd demo && ${svc} dev; echo "svc-exit=$?"`,
        "Enter",
      );
      await until(async () => /INFO\s+serving /.test(await pane()), "the serving line", 60_000);

      const handler = join(dir, "demo/handlers/demo.ts");
      const source = await Deno.readTextFile(handler);
      await Deno.writeTextFile(handler, source.replace("Hello, ", "Hi, "));
      const reloaded = await until(async () => {
        const text = await pane();
        return /INFO\s+reloaded changed=handlers\/demo\.ts .*ms=\d+/.test(text) && text;
      }, "the reload line");
      assert.doesNotMatch(reloaded, /WARN|ERROR/);

      await tmux("send-keys", "-t", "dev", "C-c");
      const final = await until(
        async () => {
          const text = await pane();
          return /svc-exit=\d+/.test(text) && text;
        },
        "the exit status",
        10_000,
      );
      assert.match(final, /svc-exit=0/);
      assert.doesNotMatch(final, /unhandled|^\s+at /im);
      assert.match(final, /shutdown: complete/);
    } finally {
      await tmux("kill-server").catch(() => "");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
