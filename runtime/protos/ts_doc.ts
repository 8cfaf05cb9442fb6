/**
 * Small text helpers shared by the generators of `svc types`: JSDoc blocks
 * built from proto comments, and fully-qualified proto names.
 * @module
 */
import type protobuf from "protobufjs";

/**
 * A JSDoc block from a summary and a proto comment; nothing when both are
 * empty. The proto comment comes first: it is what the author wrote.
 *
 * @example
 * ```ts
 * jsDoc("`SayHello` (unary).", null, "  "); // ["  /** `SayHello` (unary). *\/"]
 * ```
 */
export function jsDoc(summary: string | null, comment: string | null, indent = ""): string[] {
  const text = [comment?.trim(), summary].filter((part) => part).join("\n\n");
  if (!text) return [];
  // A `*/` inside a proto comment would end the block early.
  const lines = text.replace(/\*\//g, "*\\/").split("\n").map((l) => l.trimEnd());
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`];
  return [
    `${indent}/**`,
    ...lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)),
    `${indent} */`,
  ];
}

/**
 * The proto name without protobufjs's leading dot.
 *
 * @example
 * ```ts
 * protoFullName(root.lookupService("helloworld.Greeter")); // "helloworld.Greeter"
 * ```
 */
export function protoFullName(object: protobuf.ReflectionObject): string {
  return object.fullName.replace(/^\./, "");
}
