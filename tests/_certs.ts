/**
 * Throwaway certificates for TLS tests, made with the openssl CLI: a CA, a
 * server cert for localhost/127.0.0.1 and a client cert, all signed by the CA.
 * @module
 */
import { join } from "node:path";

/** Paths of the generated PEM files (and the directory to remove). */
export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Generates a CA plus server and client certificates in a new temp dir. */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "svc-certs-" });
  const days = ["-days", "2"];
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...days,
    "-subj",
    "/CN=svc test CA",
  );
  await Deno.writeTextFile(join(dir, "server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await Deno.writeTextFile(
    join(dir, "client.ext"),
    "subjectAltName=DNS:client.test\nextendedKeyUsage=clientAuth\n",
  );
  for (const name of ["server", "client"]) {
    const cn = name === "server" ? "localhost" : "test-client";
    await openssl(
      dir,
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      ...days,
      "-extfile",
      `${name}.ext`,
    );
  }
  return {
    dir,
    caCert: join(dir, "ca.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client.key"),
  };
}
