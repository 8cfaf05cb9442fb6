import assert from "node:assert/strict";
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { ApiTracerProvider, type TracerCore } from "./api_tracer.ts";
import { CallContextManager } from "./context.ts";
import { W3CPropagator } from "./propagation.ts";
import { createSampler } from "./sampler.ts";
import { RecordingSpan } from "./span.ts";
import type { SpanData } from "./span_data.ts";

/** Registers svc's API globals over an array of ended spans. */
function setUp(sampler = createSampler("parentbased_always_on", 1)) {
  const ended: SpanData[] = [];
  const core: TracerCore = { sampler, sink: { add: (span) => ended.push(span) } };
  context.disable();
  trace.disable();
  propagation.disable();
  context.setGlobalContextManager(new CallContextManager());
  trace.setGlobalTracerProvider(new ApiTracerProvider(core));
  propagation.setGlobalPropagator(new W3CPropagator());
  return { ended, tracer: trace.getTracer("test", "1.2.3") };
}

Deno.test("api: a span started in a handler is the child of the active span, across awaits", async () => {
  const { ended, tracer } = setUp();
  const parent = tracer.startSpan("call", { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  await context.with(trace.setSpan(ROOT_CONTEXT, parent), async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await tracer.startActiveSpan(
      "db.query",
      { attributes: { "db.system": "postgresql" } },
      async (span) => {
        await null;
        assert.equal(trace.getActiveSpan(), span);
        span.end();
      },
    );
    assert.equal(trace.getActiveSpan(), parent);
  });
  parent.end();
  const [child, call] = ended as RecordingSpan[];
  assert.equal(child.name, "db.query");
  assert.equal(child.kind, 1); // INTERNAL in OTLP's numbering
  assert.equal(call.kind, 2); // SERVER
  assert.equal(child.traceId, call.traceId);
  assert.equal(child.parentSpanId, call.spanId);
  assert.equal(child.parentIsRemote, false);
  assert.deepEqual(child.attributes, { "db.system": "postgresql" });
  assert.deepEqual(child.scope, { name: "test", version: "1.2.3" });
  assert.ok(child.startMs >= call.startMs && child.endMs <= call.endMs);
});

Deno.test("api: outside a recorded call, spans are not sampled unless started under ROOT_CONTEXT", () => {
  const { ended, tracer } = setUp();
  const stray = tracer.startSpan("outside");
  assert.equal(stray.isRecording(), false);
  assert.match(stray.spanContext().traceId, /^[0-9a-f]{32}$/);
  assert.equal(stray.spanContext().traceFlags, 0);
  stray.end();
  context.with(ROOT_CONTEXT, () => tracer.startSpan("background job").end());
  tracer.startSpan("explicit root", { root: true }).end();
  assert.deepEqual(ended.map((s) => s.name), ["background job", "explicit root"]);
});

Deno.test("api: a remote parent's sampled flag and tracestate carry over", () => {
  const { ended, tracer } = setUp();
  const carrier: Record<string, string> = {
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    tracestate: "congo=t61rcWkgMzE",
    baggage: "user=ada%20l,tenant=7;ttl=60",
  };
  const remote = propagation.extract(ROOT_CONTEXT, carrier);
  const span = tracer.startSpan("handle", {}, remote);
  span.end();
  const data = ended[0] as RecordingSpan;
  assert.equal(data.traceId, "0af7651916cd43dd8448eb211c80319c");
  assert.equal(data.parentSpanId, "b7ad6b7169203331");
  assert.equal(data.parentIsRemote, true);
  assert.equal(data.traceState, "congo=t61rcWkgMzE");
  assert.equal(propagation.getBaggage(remote)?.getEntry("user")?.value, "ada l");

  const out: Record<string, string> = {};
  propagation.inject(trace.setSpan(remote, span), out);
  assert.equal(out.traceparent, `00-0af7651916cd43dd8448eb211c80319c-${data.spanId}-01`);
  assert.equal(out.tracestate, "congo=t61rcWkgMzE");
  assert.equal(out.baggage, "user=ada%20l,tenant=7;ttl=60");

  const unsampled = propagation.extract(ROOT_CONTEXT, {
    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
  });
  const quiet = tracer.startSpan("quiet", {}, unsampled);
  assert.equal(quiet.isRecording(), false);
  assert.equal(quiet.spanContext().traceId, "0af7651916cd43dd8448eb211c80319c");
});

Deno.test("api: span methods follow the specification's rules", () => {
  const { ended, tracer } = setUp();
  const span = tracer.startSpan("work", {}, ROOT_CONTEXT);
  span.setAttribute("a", 1).setAttributes({ b: "two", c: [true, false], skipped: undefined });
  for (let i = 0; i < 200; i++) span.setAttribute(`k${i}`, i);
  span.addEvent("cache miss", { key: "x" });
  span.recordException(new TypeError("boom"));
  span.setStatus({ code: SpanStatusCode.OK });
  span.setStatus({ code: SpanStatusCode.ERROR, message: "ignored: OK is final" });
  span.updateName("work v2");
  span.end();
  span.end(); // a second end is ignored
  span.setAttribute("late", 1);
  assert.equal(ended.length, 1);
  const data = ended[0] as RecordingSpan;
  assert.equal(data.name, "work v2");
  assert.equal(Object.keys(data.attributes!).length, 128);
  assert.equal(data.droppedAttributes, 200 + 3 - 128);
  assert.equal(data.statusCode, SpanStatusCode.OK);
  assert.equal(data.events?.[1].name, "exception");
  assert.equal(data.events?.[1].attributes?.["exception.type"], "TypeError");
  assert.equal(data.events?.[1].attributes?.["exception.message"], "boom");
  assert.equal(span.isRecording(), false);
});

Deno.test("api: the ratio sampler decides for new traces; always_off records nothing", () => {
  const { ended, tracer } = setUp(createSampler("parentbased_traceidratio", 0.5));
  for (let i = 0; i < 2000; i++) tracer.startSpan("s", {}, ROOT_CONTEXT).end();
  assert.ok(ended.length > 850 && ended.length < 1150, `${ended.length} of 2000 sampled`);
  const off = setUp(createSampler("always_off", 1));
  off.tracer.startSpan("s", {}, ROOT_CONTEXT).end();
  assert.equal(off.ended.length, 0);
});

Deno.test("context: a call's context is entered for real only once code has asked for one", async () => {
  const manager = new CallContextManager();
  const ctx = ROOT_CONTEXT.setValue(Symbol.for("test"), 1);
  const seen: unknown[] = [];
  const handler = async () => {
    seen.push(manager.peek() === ctx); // svc's own look does not turn entering on
    await null;
    seen.push(manager.peek() === ctx);
  };
  await manager.enterCall(ctx, handler, undefined, undefined);
  assert.deepEqual(seen, [true, false]);
  assert.equal(manager.used, false);
  // Handler code asks (synchronously, as startActiveSpan at a handler's top does): it is answered.
  manager.enterCall(ctx, () => seen.push(manager.active() === ctx), undefined, undefined);
  assert.equal(manager.used, true);
  seen.length = 0;
  await manager.enterCall(ctx, handler, undefined, undefined);
  assert.deepEqual(seen, [true, true]); // entered now: the context survives the await
});
