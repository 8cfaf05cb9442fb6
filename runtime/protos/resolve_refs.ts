/**
 * Resolves every type reference (field types, method request and response
 * types, extensions) and reports each one that names no known type.
 * @module
 */
import protobuf from "protobufjs";
import type { Issue } from "../core/errors.ts";
import { findLine, type SourceText } from "./parse_errors.ts";

/**
 * Resolves all references in `root`, one object at a time, so every
 * unresolvable type is reported, not just the first. Objects declared in
 * `skip` files (which failed to parse or import) are not checked, to avoid
 * follow-on noise.
 *
 * @example
 * ```ts
 * const issues = resolveReferences(root, texts, new Set());
 * ```
 */
export function resolveReferences(
  root: protobuf.Root,
  texts: ReadonlyMap<string, SourceText>,
  skip: ReadonlySet<string>,
): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  const report = (object: protobuf.ReflectionObject, error: unknown, ref: string) => {
    const name = object.filename ?? "";
    if (skip.has(name)) return;
    // The n-th unresolved use of a name in a file is most likely its n-th mention.
    const key = `${name}\0${ref}`;
    const occurrence = (seen.get(key) ?? 0) + 1;
    seen.set(key, occurrence);
    issues.push(_issue(object, error, ref, texts.get(name), occurrence));
  };
  _walk(root, (object) => {
    if (object instanceof protobuf.Field) {
      try {
        object.resolve();
      } catch (error) {
        report(object, error, object.type);
      }
    } else if (object instanceof protobuf.Method) {
      let ok = true;
      for (const ref of [object.requestType, object.responseType]) {
        try {
          object.parent?.lookupType(ref);
        } catch (error) {
          report(object, error, ref);
          ok = false;
        }
      }
      if (ok) object.resolve();
    }
  });
  for (const field of root.deferred) {
    report(field, new Error(`no such type: ${field.extend}`), field.extend ?? "");
  }
  return issues;
}

function _walk(ns: protobuf.NamespaceBase, visit: (o: protobuf.ReflectionObject) => void): void {
  if (ns instanceof protobuf.Type) {
    for (const field of ns.fieldsArray) visit(field);
  }
  if (ns instanceof protobuf.Service) {
    for (const method of ns.methodsArray) visit(method);
  }
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Namespace) {
      _walk(child, visit);
    } else if (child instanceof protobuf.Field) {
      visit(child);
    }
  }
}

function _issue(
  object: protobuf.ReflectionObject,
  error: unknown,
  ref: string,
  source: SourceText | undefined,
  occurrence: number,
): Issue {
  const raw = error instanceof Error ? error.message : String(error);
  const missing = /^no such (?:type|Type or Enum|Enum|Service)[: ]+'?([^' ]+)'?/.exec(raw);
  const where = object.fullName.replace(/^\./, "");
  const kind = object instanceof protobuf.Method ? "method" : "field";
  const message = missing
    ? `no such type: ${missing[1]} (referenced by ${kind} ${where})`
    : `${kind} ${where}: ${raw}`;
  const token = ref.replace(/^\./, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`(^|[^\\w.])\\.?${token}(?![\\w.])`, "g");
  return {
    file: source?.path ?? object.filename ?? "(unknown file)",
    line: source ? findLine(source.text, pattern, occurrence) : undefined,
    where,
    message,
  };
}
