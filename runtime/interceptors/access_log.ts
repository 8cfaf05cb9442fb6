/**
 * One log line per finished call: method, code, duration, peer, messages.
 * @module
 */
import { GO_CODE_NAMES } from "../core/errors.ts";
import { JSON_LINE, type JsonLineLogger } from "../log/logger.ts";
import { textBytes } from "../log/stderr_writer.ts";
import type { Logger } from "../core/logger.ts";
import type { CallKind } from "../protos/types.ts";
import type { CallObserver } from "../server/observer.ts";
import { NOOP_SPAN } from "../core/noop_span.ts";

// The line's constant pieces, encoded once.
const METHOD = textBytes(`,"method":`);
const DURATION = textBytes(`,"durationMs":`);
const PEER = textBytes(`,"peer":`);
const RECEIVED = textBytes(`,"received":`);
const SENT = textBytes(`,"sent":`);
const TRACE_ID = textBytes(`,"trace_id":`);
const SPAN_ID = textBytes(`,"span_id":`);
const CODES = GO_CODE_NAMES.map((name) => textBytes(`,"code":"${name}"`));
const NO_CODE = new Uint8Array(0);
const KINDS: Record<CallKind, Uint8Array> = {
  unary: textBytes(`,"kind":"unary"`),
  client_stream: textBytes(`,"kind":"client_stream"`),
  server_stream: textBytes(`,"kind":"server_stream"`),
  bidi_stream: textBytes(`,"kind":"bidi_stream"`),
};

/** Creates the access-log observer writing to `log` at info level. */
export function accessLog(log: Logger): CallObserver {
  const jsonLine = (log as JsonLineLogger)[JSON_LINE];
  return {
    started() {},
    finished(call, code, duration) {
      const durationMs = Math.round(duration * 1000) / 1000;
      if (jsonLine) {
        // The same line as below, written into the output buffer as it is
        // built: one per call adds up, and this way it leaves no garbage.
        const line = jsonLine("info", "call");
        if (line === null) return;
        line.string(METHOD, call.method);
        line.bytes(CODES[code] ?? NO_CODE);
        line.number(DURATION, durationMs);
        line.string(PEER, call.peer);
        line.bytes(KINDS[call.kind]);
        line.number(RECEIVED, call.messagesReceived);
        line.number(SENT, call.messagesSent);
        // Traced: the line joins the call's trace in the logging backend.
        const span = call.span;
        if (span && span !== NOOP_SPAN) {
          const { traceId, spanId } = span.spanContext();
          line.string(TRACE_ID, traceId);
          line.string(SPAN_ID, spanId);
        }
        line.end("info");
        return;
      }
      const fields: Record<string, unknown> = {
        method: call.method,
        code: GO_CODE_NAMES[code],
        durationMs,
        peer: call.peer,
        kind: call.kind,
        received: call.messagesReceived,
        sent: call.messagesSent,
      };
      const span = call.span;
      if (span && span !== NOOP_SPAN) {
        const { traceId, spanId } = span.spanContext();
        fields.trace_id = traceId;
        fields.span_id = spanId;
      }
      log.info("call", fields);
    },
  };
}
