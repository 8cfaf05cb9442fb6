/**
 * The entry module of one worker thread (`server.workers` > 1): loads the
 * same app as the supervisor and serves it on the shared port, without an
 * admin server, a registry entry or signal handlers (the supervisor owns
 * those). It answers the supervisor's messages (protocol.ts): health
 * changes, metric requests, shutdown.
 * @module
 */
/// <reference lib="deno.worker" />
import { loadApp, type LoadAppOptions } from "../load.ts";
import { appLogger } from "../run.ts";
import { type RunningApp, startApp } from "../start.ts";
import { UserInputError } from "../../core/errors.ts";
import { keepServingOnStrayRejections } from "../signals.ts";
import type { FromWorker, ToWorker, WorkerStart } from "./protocol.ts";

let running: RunningApp | null = null;

const post = (message: FromWorker) => self.postMessage(message);

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  switch (message.kind) {
    case "start":
      start(message).catch((error) => post({ kind: "failed", message: describe(error) }));
      return;
    case "health":
      running?.health.setAll(message.status);
      return;
    case "metrics": {
      const json = running?.metricsJson() ?? Promise.resolve([]);
      json.then(
        (json) => post({ kind: "metrics", id: message.id, json }),
        () => post({ kind: "metrics", id: message.id, json: [] }),
      );
      return;
    }
    case "shutdown":
      (running?.shutdown() ?? Promise.resolve()).finally(() => post({ kind: "closed" }));
      return;
  }
};

async function start(message: WorkerStart): Promise<void> {
  const env = { ...Deno.env.toObject(), SVC_SERVER_PORT: String(message.port) };
  const options: LoadAppOptions = { env, ...await manifestSources(message.manifest) };
  const app = await loadApp(message.configPath, options);
  const log = appLogger(app).child({ worker: message.index });
  keepServingOnStrayRejections(log);
  running = await startApp(app, log, {
    worker: {
      memoryShare: message.memoryShare,
      limits: { buffers: message.limits, slot: message.index },
    },
  });
  post({ kind: "serving", host: running.address.host, port: running.address.port });
}

/** The handler sources of a built binary's manifest (cli/build/manifest.ts), or none. */
async function manifestSources(manifest: string | null): Promise<Partial<LoadAppOptions>> {
  if (manifest === null) return {};
  const { handlerSources, middlewareSources, clientMiddlewareSources } = await import(manifest);
  return { handlerSources, middlewareSources, clientMiddlewareSources };
}

function describe(error: unknown): string {
  if (error instanceof UserInputError) return error.issues.map((i) => i.message).join("\n");
  return error instanceof Error ? error.message : String(error);
}
