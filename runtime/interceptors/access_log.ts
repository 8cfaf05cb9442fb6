/**
 * One log line per finished call: method, code, duration, peer, messages.
 * @module
 */
import { GO_CODE_NAMES } from "../errors.ts";
import { type JsonMembersLogger, jsonText, WRITE_JSON_MEMBERS } from "../log/logger.ts";
import type { Logger } from "../log/types.ts";
import type { Interceptor } from "../server/interceptor.ts";
import { toRpcError } from "../server/status.ts";

/** Creates the access-log interceptor writing to `log` at info level. */
export function accessLog(log: Logger): Interceptor {
  const writeMembers = (log as JsonMembersLogger)[WRITE_JSON_MEMBERS];
  return (next) =>
    async function accessLogged(call) {
      const started = performance.now();
      let code = 0;
      try {
        await next(call);
      } catch (thrown) {
        code = toRpcError(thrown, call.signal, call.deadline).code;
        throw thrown;
      } finally {
        const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        if (writeMembers) {
          // The same fields as below, serialised here: no object, no generic walk.
          const name = GO_CODE_NAMES[code];
          writeMembers(
            "info",
            "call",
            `,"method":${jsonText(call.method)}${
              name === undefined ? "" : `,"code":"${name}"`
            },"durationMs":${durationMs},"peer":${jsonText(call.peer)},"kind":"${call.kind}",` +
              `"received":${call.messagesReceived},"sent":${call.messagesSent}`,
          );
        } else {
          log.info("call", {
            method: call.method,
            code: GO_CODE_NAMES[code],
            durationMs,
            peer: call.peer,
            kind: call.kind,
            received: call.messagesReceived,
            sent: call.messagesSent,
          });
        }
      }
    };
}
