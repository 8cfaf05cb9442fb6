import assert from "node:assert/strict";
import { parseStraceSummary, renderSyscalls } from "./_syscalls.ts";

// `strace -c -f -q` as it prints on detach; the errors column is blank when zero.
const SUMMARY = `% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 52.10    0.012000           3      3184           sendto
 47.80    0.011000           3      3176        12 recvfrom
  0.10    0.000020          20         1           write
------ ----------- ----------- --------- --------- ----------------
100.00    0.023020           3      6361        12 total
`;

Deno.test("parseStraceSummary() reads the calls column, errored calls included", () => {
  assert.deepEqual(parseStraceSummary(SUMMARY), { sendto: 3184, recvfrom: 3176, write: 1 });
  assert.deepEqual(parseStraceSummary("strace: attach: ptrace(PTRACE_SEIZE, 1): denied\n"), {});
});

Deno.test("renderSyscalls() shows medians per call and who was not counted", () => {
  const sample = (calls: number, sendto: number) => ({
    calls,
    rate: calls / 2,
    counts: { sendto, recvfrom: calls / 10 },
  });
  const text = renderSyscalls(["svc-native", "grpcjs-node", "grpc-go"], [
    { contender: "svc-native", syscalls: sample(1000, 30) },
    { contender: "svc-native", syscalls: sample(1000, 50) },
    { contender: "svc-native", syscalls: sample(1000, 40) },
    { contender: "grpcjs-node", syscalls: null, syscallsError: "strace did not attach" },
  ], 2);
  assert.match(text, /^\*\*syscalls per response \(unary-small\)\*\*: .*extra 2 s/);
  assert.match(
    text,
    /\| svc-native +\| +0\.040 \| +0\.100 \| sendto 0\.040, recvfrom 0\.100 \| +500 \|/,
  );
  assert.doesNotMatch(text, /\| grpc-go/);
  assert.match(text, /not counted: grpcjs-node: strace did not attach/);
  assert.equal(renderSyscalls(["svc-native"], [{ contender: "svc-native" }], 0), "");
});
