import assert from "node:assert/strict";
import { joinHostPort, resolveAdvertise } from "./advertise.ts";

const noEnv = () => undefined;
const eth0 = (): Deno.NetworkInterfaceInfo[] => [
  {
    name: "lo",
    family: "IPv4",
    address: "127.0.0.1",
    netmask: "255.0.0.0",
    scopeid: null,
    cidr: "127.0.0.1/8",
    mac: "00:00:00:00:00:00",
  },
  {
    name: "eth0",
    family: "IPv6",
    address: "fe80::1",
    netmask: "ffff::",
    scopeid: 2,
    cidr: "fe80::1/64",
    mac: "02:00:00:00:00:01",
  },
  {
    name: "eth0",
    family: "IPv4",
    address: "10.1.2.3",
    netmask: "255.255.255.0",
    scopeid: null,
    cidr: "10.1.2.3/24",
    mac: "02:00:00:00:00:01",
  },
];

Deno.test("resolveAdvertise() prefers registry.advertise, adding the port when it has none", () => {
  const address = { host: "0.0.0.0", port: 50051 };
  assert.equal(
    resolveAdvertise({ advertise: "svc.local:7000", address, env: noEnv }),
    "svc.local:7000",
  );
  assert.equal(
    resolveAdvertise({ advertise: "svc.local", address, env: noEnv }),
    "svc.local:50051",
  );
  assert.equal(
    resolveAdvertise({ advertise: "[fd00::1]:7000", address, env: noEnv }),
    "[fd00::1]:7000",
  );
  assert.equal(resolveAdvertise({ advertise: "fd00::1", address, env: noEnv }), "[fd00::1]:50051");
});

Deno.test("resolveAdvertise() uses POD_IP next, then a real interface for a wildcard host", () => {
  const address = { host: "0.0.0.0", port: 50051 };
  const env = (name: string) => name === "POD_IP" ? "10.9.8.7" : undefined;
  assert.equal(
    resolveAdvertise({ advertise: "", address, env, interfaces: eth0 }),
    "10.9.8.7:50051",
  );
  assert.equal(
    resolveAdvertise({ advertise: "", address, env: noEnv, interfaces: eth0 }),
    "10.1.2.3:50051",
  );
  assert.equal(
    resolveAdvertise({
      advertise: "",
      address: { host: "::", port: 1 },
      env: noEnv,
      interfaces: () => [],
    }),
    "127.0.0.1:1",
  );
  const denied = () => {
    throw new Deno.errors.NotCapable("no --allow-sys");
  };
  assert.equal(
    resolveAdvertise({ advertise: "", address, env: noEnv, interfaces: denied }),
    "127.0.0.1:50051",
  );
});

Deno.test("resolveAdvertise() keeps a specific listen host; joinHostPort() brackets IPv6", () => {
  assert.equal(
    resolveAdvertise({ advertise: "", address: { host: "127.0.0.1", port: 9 }, env: noEnv }),
    "127.0.0.1:9",
  );
  assert.equal(joinHostPort("::1", 5), "[::1]:5");
  assert.equal(joinHostPort("[::1]", 5), "[::1]:5");
  assert.equal(joinHostPort("example.com", 5), "example.com:5");
});
