/**
 * End-to-end: with `server.web.enabled`, the demo and the RouteGuide example
 * answer gRPC-Web and Connect (binary and JSON) over HTTP/1.1 and
 * HTTP/2 on the gRPC port, and real @connectrpc/connect-node clients see exactly what a grpc-js
 * client sees for the same call: the same messages, the same error code and
 * message. Each web outcome is compared with a gRPC call made right before
 * it, not with hard-coded values, so the test follows the handlers.
 * @module
 */
import assert from "node:assert/strict";
import { grpcClient, startSvc } from "./_harness.ts";
import {
  connectCall,
  errorView,
  grpcCall,
  HTTP_VERSIONS,
  loadRegistry,
  WEB_ENV,
  WEB_PROTOCOLS,
  webClients,
} from "./_connect.ts";

const GREETER_PROTO = "proto/helloworld.proto";
const ROUTEGUIDE_PROTO = "examples/routeguide/proto/route_guide.proto";

/** Brandenburg Gate: a point the RouteGuide map knows. */
const KNOWN_POINT = { latitude: 525162750, longitude: 133777040 };
/** Central Berlin, corners in either order: ListFeatures streams several features. */
const CENTRE = {
  lo: { latitude: 525300000, longitude: 134200000 },
  hi: { latitude: 525000000, longitude: 133400000 },
};

for (const version of HTTP_VERSIONS) {
  Deno.test(`web protocols over HTTP/${version}: the demo's unary, streaming and error calls match gRPC`, async (t) => {
    const greeter = (await loadRegistry(GREETER_PROTO, "proto")).getService("helloworld.Greeter")!;
    const routeGuide = (await loadRegistry(ROUTEGUIDE_PROTO, "examples/routeguide/proto"))
      .getService("routeguide.RouteGuide")!;
    await using svc = await startSvc({ config: "config/svc.yaml", env: WEB_ENV });
    const grpcGreeter = grpcClient([GREETER_PROTO]).makeClient("helloworld.Greeter", svc.port);
    const grpcRouteGuide = grpcClient([ROUTEGUIDE_PROTO])
      .makeClient("routeguide.RouteGuide", svc.port);
    await using web = webClients(svc.port, version);
    try {
      const cases = [
        { what: "unary SayHello", method: "sayHello", request: { name: "Ada" } },
        { what: "unary SayHello, empty request", method: "sayHello", request: {} },
        {
          what: "server-streaming LotsOfReplies",
          method: "lotsOfReplies",
          request: { name: "Bo" },
        },
        // The handler rejects names over 200 characters with INVALID_ARGUMENT.
        {
          what: "INVALID_ARGUMENT from SayHello",
          method: "sayHello",
          request: { name: "x".repeat(201) },
        },
        {
          what: "INVALID_ARGUMENT from LotsOfReplies",
          method: "lotsOfReplies",
          request: { name: "é".repeat(201) },
        },
      ];
      for (const c of cases) {
        const expected = await grpcCall(grpcGreeter, c.method, c.request);
        // Guard against a vacuous comparison: the reference itself must look right.
        if (c.what.startsWith("INVALID")) {
          assert.equal(expected.error?.code, 3, `gRPC reference for ${c.what}`);
        } else {
          assert.equal(expected.error, null, `gRPC reference for ${c.what}`);
          assert.ok(expected.messages.length >= 1);
        }
        for (const protocol of WEB_PROTOCOLS) {
          await t.step(`${protocol}: ${c.what}`, async () => {
            const got = await connectCall(
              web.client(protocol, greeter),
              greeter,
              c.method,
              c.request,
            );
            assert.deepEqual(errorView(got), errorView(expected));
          });
        }
      }

      // The demo does not serve RouteGuide: every protocol says UNIMPLEMENTED alike.
      const expected = await grpcCall(grpcRouteGuide, "getFeature", KNOWN_POINT);
      assert.equal(expected.error?.code, 12, "gRPC reference: UNIMPLEMENTED");
      for (const protocol of WEB_PROTOCOLS) {
        await t.step(`${protocol}: an unknown service is UNIMPLEMENTED, as over gRPC`, async () => {
          const client = web.client(protocol, routeGuide);
          const got = await connectCall(client, routeGuide, "getFeature", KNOWN_POINT);
          assert.deepEqual(errorView(got), errorView(expected));
        });
      }
    } finally {
      grpcGreeter.close();
      grpcRouteGuide.close();
    }
  });
}

for (const version of HTTP_VERSIONS) {
  Deno.test(`web protocols over HTTP/${version}: RouteGuide's GetFeature and ListFeatures match gRPC`, async (t) => {
    const routeGuide = (await loadRegistry(ROUTEGUIDE_PROTO, "examples/routeguide/proto"))
      .getService("routeguide.RouteGuide")!;
    await using svc = await startSvc({ config: "examples/routeguide/svc.yaml", env: WEB_ENV });
    const grpc = grpcClient([ROUTEGUIDE_PROTO]).makeClient("routeguide.RouteGuide", svc.port);
    await using web = webClients(svc.port, version);
    try {
      const cases = [
        { what: "GetFeature at a known point", method: "getFeature", request: KNOWN_POINT },
        { what: "GetFeature where nothing is", method: "getFeature", request: { latitude: 1 } },
        { what: "ListFeatures over central Berlin", method: "listFeatures", request: CENTRE },
        { what: "ListFeatures over an empty sea", method: "listFeatures", request: {} },
      ];
      for (const c of cases) {
        const expected = await grpcCall(grpc, c.method, c.request);
        assert.equal(expected.error, null, `gRPC reference for ${c.what}`);
        if (c.request === CENTRE) assert.ok(expected.messages.length >= 3, "several features");
        for (const protocol of WEB_PROTOCOLS) {
          await t.step(`${protocol}: ${c.what}`, async () => {
            const client = web.client(protocol, routeGuide);
            const got = await connectCall(client, routeGuide, c.method, c.request);
            assert.deepEqual(errorView(got), errorView(expected));
          });
        }
      }
    } finally {
      grpc.close();
    }
  });
}
