/**
 * The Dockerfile and examples/k8s agree with each other and with the
 * runtime: ports from the ConfigMap's config (resolved by the real config
 * loader), probes on those ports, a grace period longer than svc's own
 * shutdown bound, the image's user and config path. Each object is also
 * validated against the Kubernetes OpenAPI schema by kubernetes-models
 * (ajv over the upstream schemas; it checks types and required fields, not
 * unknown keys), since no kubeconform or kubeval installs from apt here.
 */
import { WATCHDOG_MARGIN_MS } from "../runtime/app/run.ts";
import { SHUTDOWN_SLACK_MS } from "../runtime/app/shutdown.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { parseAllDocuments } from "yaml";
import { CONTAINER_BINARY, CONTAINER_UID } from "../runtime/cli/build/mod.ts";
import type { ResolvedConfig } from "../runtime/config/mod.ts";
import { resolveConfig } from "../runtime/config/resolve.ts";
import { ROOT } from "./_harness.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;
const K8S = join(ROOT, "examples", "k8s");
/** svc's watchdog slack on top of drainDelay + gracePeriod (runtime/app/run.ts). */
/** svc's watchdog ends a shutdown this long after drainDelay + gracePeriod at the latest. */
const WATCHDOG_SLACK_S = (SHUTDOWN_SLACK_MS + WATCHDOG_MARGIN_MS) / 1000;

async function load(file: string): Promise<Doc[]> {
  const docs = parseAllDocuments(await Deno.readTextFile(join(K8S, file)));
  for (const doc of docs) assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
  return docs.map((doc) => doc.toJS()).filter((doc) => doc !== null);
}

async function objects() {
  const [configMap] = await load("configmap.yaml");
  const [deployment] = await load("deployment.yaml");
  const [service] = await load("service.yaml");
  return { configMap, deployment, service };
}

/** The ConfigMap's svc config, resolved as the image would (/etc/svc has proto/ and handlers/). */
async function svcConfig(configMap: Doc): Promise<ResolvedConfig> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "proto"));
    await Deno.mkdir(join(dir, "handlers"));
    return resolveConfig(configMap.data["config.yaml"], join(dir, "config.yaml"), {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("examples/k8s: every object passes the Kubernetes schema", async () => {
  const { configMap, deployment, service } = await objects();
  new ConfigMap(configMap).validate();
  new Deployment(deployment).validate();
  new Service(service).validate();
  // The validator is not a rubber stamp.
  const broken = structuredClone(deployment);
  broken.spec.replicas = "two";
  delete broken.spec.selector;
  assert.throws(
    () => new Deployment(broken).validate(),
    /spec must have required property selector, data\/spec\/replicas must be integer/,
  );
});

Deno.test("examples/k8s: kinds, names and labels line up", async () => {
  const { configMap, deployment, service } = await objects();
  assert.equal(`${configMap.apiVersion}/${configMap.kind}`, "v1/ConfigMap");
  assert.equal(`${deployment.apiVersion}/${deployment.kind}`, "apps/v1/Deployment");
  assert.equal(`${service.apiVersion}/${service.kind}`, "v1/Service");
  const labels = deployment.spec.template.metadata.labels;
  assert.deepEqual(deployment.spec.selector.matchLabels, labels);
  assert.deepEqual(service.spec.selector, labels);
  const volume = deployment.spec.template.spec.volumes.find((v: Doc) => v.configMap);
  assert.equal(volume.configMap.name, configMap.metadata.name);
  const [container] = deployment.spec.template.spec.containers;
  const mount = container.volumeMounts.find((m: Doc) => m.name === volume.name);
  assert.deepEqual(
    { path: mount.mountPath, subPath: mount.subPath, readOnly: mount.readOnly },
    { path: "/etc/svc/config.yaml", subPath: "config.yaml", readOnly: true },
  );
  assert.ok(configMap.data[mount.subPath], "the mounted key exists");
});

Deno.test("examples/k8s: ports and probes match the ConfigMap's svc config", async () => {
  const { configMap, deployment, service } = await objects();
  const config = await svcConfig(configMap);
  assert.equal(config.registry.type, "etcd");
  assert.equal(config.registry.advertise, "", "svc publishes $POD_IP");
  const [container] = deployment.spec.template.spec.containers;
  const ports: Record<string, number> = Object.fromEntries(
    container.ports.map((p: Doc) => [p.name, p.containerPort]),
  );
  assert.deepEqual(ports, { grpc: config.server.port, metrics: config.admin.port });
  assert.equal(container.readinessProbe.grpc.port, config.server.port, "readiness: gRPC health");
  assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "metrics" });
  for (const port of service.spec.ports) {
    const target = container.ports.find((p: Doc) => p.name === port.targetPort);
    assert.equal(port.port, target?.containerPort, `Service port ${port.name}`);
  }
  const podIp = container.env.find((e: Doc) => e.name === "POD_IP");
  assert.equal(podIp.valueFrom.fieldRef.fieldPath, "status.podIP");
});

Deno.test("examples/k8s: the grace period outlasts svc's shutdown; the pod is non-root and read-only", async () => {
  const { configMap, deployment } = await objects();
  const { drainDelay, gracePeriod } = (await svcConfig(configMap)).shutdown;
  const pod = deployment.spec.template.spec;
  assert.ok(
    pod.terminationGracePeriodSeconds > (drainDelay + gracePeriod) / 1000 + WATCHDOG_SLACK_S,
    `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} must exceed ` +
      `drainDelay + gracePeriod + ${WATCHDOG_SLACK_S}s`,
  );
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, CONTAINER_UID);
  const [container] = pod.containers;
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
  assert.ok(container.resources.limits.memory);
  assert.equal(container.lifecycle, undefined, "no preStop: svc drains by itself");
});

Deno.test("Dockerfile: scratch final stage from rootfs.ts, non-root, the ports and config path svc uses", async () => {
  const text = await Deno.readTextFile(join(ROOT, "Dockerfile"));
  const instructions = text.split("\n").filter((l) => /^[A-Z]+ /.test(l));
  const final = instructions.slice(instructions.findLastIndex((l) => l.startsWith("FROM ")));
  assert.deepEqual(final, [
    "FROM scratch",
    "COPY --from=build /rootfs/ /",
    `USER ${CONTAINER_UID}:${CONTAINER_UID}`,
    // Freed large buffers go back to the OS (runtime/util/malloc_tuning.ts).
    "ENV MALLOC_MMAP_THRESHOLD_=131072",
    "EXPOSE 50051 9090",
    "STOPSIGNAL SIGTERM",
    `ENTRYPOINT ["${CONTAINER_BINARY}", "run", "/etc/svc/config.yaml"]`,
  ]);
  assert.match(text, /deno run -A main\.ts build "\$\{CONFIG\}" -o \/out\/svc/);
  assert.match(
    text,
    /runtime\/cli\/build\/rootfs\.ts --binary \/out\/svc --config "\$\{CONFIG\}" --out \/rootfs/,
  );
  assert.match(text, /npm install --global "deno@\$\{DENO_VERSION\}"/);
  assert.match(text, /ARG DENO_VERSION=2\.8\.3/);
  const { configMap } = await objects();
  const config = await svcConfig(configMap);
  assert.ok(text.includes(`EXPOSE ${config.server.port} ${config.admin.port}`));
});
