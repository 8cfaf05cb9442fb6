/**
 * The raw config tree: YAML (or env, or defaults) turned into plain nodes
 * that remember where each value came from, with `${VAR}` already expanded.
 * @module
 */

import type { Alias, Document, LineCounter, Scalar, YAMLMap, YAMLSeq } from "yaml";
import { expandVariables } from "./expand.ts";
import type { Path } from "./path.ts";
import type { SimpleNode } from "./simple_yaml.ts";

// The yaml package's own isAlias/isMap/isScalar/isSeq, which test these
// registered symbols (yaml/dist/nodes/identity.js): importing them would load
// the whole package at start, and most configs never reach it (the fast path
// of simple_yaml.ts parses them; resolve.ts imports yaml only for the rest).
// raw_test.ts and simple_yaml_test.ts run fromYaml on real yaml nodes.
const NODE_TYPE = Symbol.for("yaml.node.type");
const _is = (kind: string) => {
  const tag = Symbol.for(kind);
  return (node: unknown) =>
    typeof node === "object" && node !== null &&
    (node as Record<symbol, unknown>)[NODE_TYPE] === tag;
};
const isAlias = _is("yaml.alias") as (node: unknown) => node is Alias;
const isMap = _is("yaml.map") as (node: unknown) => node is YAMLMap;
const isScalar = _is("yaml.scalar") as (node: unknown) => node is Scalar;
const isSeq = _is("yaml.seq") as (node: unknown) => node is YAMLSeq;

/** Where a raw value came from: a position in the file, an env var, or neither (a default). */
export interface Origin {
  line?: number;
  column?: number;
  /** The environment variable that supplied the value. */
  env?: string;
}

/** A scalar value. */
export interface ScalarNode {
  type: "scalar";
  value: unknown;
  /** Came from `${VAR}` expansion or an env var: numeric and boolean strings may be coerced. */
  loose: boolean;
  /** Expansion failed and was already reported; validation skips it. */
  broken?: boolean;
  origin: Origin;
}

/** A mapping; each entry remembers its key's position. */
export interface MapNode {
  type: "map";
  entries: Map<string, { key: Origin; node: RawNode }>;
  origin: Origin;
}

/** A sequence. */
export interface SeqNode {
  type: "seq";
  items: RawNode[];
  origin: Origin;
}

/** Any raw node. */
export type RawNode = ScalarNode | MapNode | SeqNode;

/** Called for each `${VAR}` expansion problem found while reading YAML. */
export type ProblemSink = (path: Path, origin: Origin, message: string) => void;

/** What {@link fromYaml} needs besides the node. */
export interface YamlSource {
  doc: Document;
  lineCounter: LineCounter;
  env: Readonly<Record<string, string | undefined>>;
  onProblem: ProblemSink;
}

/**
 * Converts a parsed YAML node into a raw node, expanding `${VAR}` references
 * in string scalars (not in keys).
 *
 * @example
 * ```ts
 * import { LineCounter, parseDocument } from "yaml";
 * import { fromYaml } from "./raw.ts";
 * const lineCounter = new LineCounter();
 * const doc = parseDocument("port: ${PORT}", { lineCounter });
 * fromYaml(doc.contents, [], { doc, lineCounter, env: { PORT: "1" }, onProblem: () => {} });
 * ```
 */
export function fromYaml(node: unknown, path: Path, source: YamlSource): RawNode {
  const target = isAlias(node) ? node.resolve(source.doc) : node;
  const origin = _position(target, source.lineCounter);
  if (isMap(target)) {
    const entries: MapNode["entries"] = new Map();
    for (const pair of target.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyOrigin = _position(pair.key, source.lineCounter);
      const value = pair.value === null || pair.value === undefined
        ? scalar(null, keyOrigin)
        : fromYaml(pair.value, [...path, key], source);
      entries.set(key, { key: keyOrigin, node: value });
    }
    return { type: "map", entries, origin };
  }
  if (isSeq(target)) {
    return {
      type: "seq",
      items: target.items.map((item, i) => fromYaml(item, [...path, i], source)),
      origin,
    };
  }
  return _expanded(isScalar(target) ? target.value : null, path, origin, source);
}

/**
 * Converts a node of simple_yaml.ts's fast path into a raw node, exactly as
 * {@link fromYaml} converts the `yaml` package's node for the same text.
 *
 * @example
 * ```ts
 * import { parseSimpleYaml } from "./simple_yaml.ts";
 * import { fromSimple } from "./raw.ts";
 * fromSimple(parseSimpleYaml("port: ${PORT}")!, [], { env: { PORT: "1" }, onProblem: () => {} });
 * ```
 */
export function fromSimple(
  node: SimpleNode,
  path: Path,
  source: Pick<YamlSource, "env" | "onProblem">,
): RawNode {
  const origin: Origin = { line: node.pos.line, column: node.pos.column };
  if (node.type === "map") {
    const entries: MapNode["entries"] = new Map();
    for (const { key, keyPos, value } of node.entries) {
      const keyOrigin = { line: keyPos.line, column: keyPos.column };
      entries.set(key, {
        key: keyOrigin,
        node: value === null ? scalar(null, keyOrigin) : fromSimple(value, [...path, key], source),
      });
    }
    return { type: "map", entries, origin };
  }
  if (node.type === "seq") {
    return {
      type: "seq",
      items: node.items.map((item, i) => fromSimple(item, [...path, i], source)),
      origin,
    };
  }
  return _expanded(node.value, path, origin, source);
}

function _expanded(
  value: unknown,
  path: Path,
  origin: Origin,
  source: Pick<YamlSource, "env" | "onProblem">,
): ScalarNode {
  if (typeof value !== "string" || !value.includes("${")) return scalar(value ?? null, origin);
  const expansion = expandVariables(value, source.env);
  for (const problem of expansion.problems) source.onProblem(path, origin, problem);
  return {
    ...scalar(expansion.value, origin, expansion.expanded),
    ...(expansion.problems.length > 0 ? { broken: true } : {}),
  };
}

/**
 * Builds a raw node from a plain JS value (a default, or JSON from an env var).
 *
 * @example
 * ```ts
 * import { fromPlain } from "./raw.ts";
 * fromPlain(["proto"], {}, false).type; // "seq"
 * ```
 */
export function fromPlain(value: unknown, origin: Origin, loose: boolean): RawNode {
  if (Array.isArray(value)) {
    return { type: "seq", items: value.map((item) => fromPlain(item, origin, loose)), origin };
  }
  if (value !== null && typeof value === "object") {
    const entries: MapNode["entries"] = new Map();
    for (const [key, item] of Object.entries(value)) {
      entries.set(key, { key: origin, node: fromPlain(item, origin, loose) });
    }
    return { type: "map", entries, origin };
  }
  return scalar(value ?? null, origin, loose);
}

/** A scalar node. */
export function scalar(value: unknown, origin: Origin, loose = false): ScalarNode {
  return { type: "scalar", value, loose, origin };
}

/** An empty mapping node. */
export function emptyMap(origin: Origin = {}): MapNode {
  return { type: "map", entries: new Map(), origin };
}

/**
 * Finds the node at `path`, or undefined when any step is missing.
 *
 * @example
 * ```ts
 * import { fromPlain, nodeAt } from "./raw.ts";
 * nodeAt(fromPlain({ a: { b: 1 } }, {}, false), ["a", "b"]); // the scalar 1
 * ```
 */
export function nodeAt(root: RawNode, path: Path): RawNode | undefined {
  let node: RawNode | undefined = root;
  for (const step of path) {
    if (node?.type === "map" && typeof step === "string") node = node.entries.get(step)?.node;
    else if (node?.type === "seq" && typeof step === "number") node = node.items[step];
    else return undefined;
  }
  return node;
}

/**
 * Sets the node at `path` (string keys only), creating or replacing mappings
 * on the way; new mappings take `origin`.
 *
 * @example
 * ```ts
 * import { emptyMap, scalar, setAt } from "./raw.ts";
 * const root = emptyMap();
 * setAt(root, ["server", "tls", "cert"], scalar("c.pem", { env: "SVC_SERVER_TLS_CERT" }));
 * ```
 */
export function setAt(root: MapNode, path: readonly string[], node: RawNode): void {
  let parent = root;
  for (const step of path.slice(0, -1)) {
    const entry = parent.entries.get(step);
    if (entry?.node.type === "map") {
      parent = entry.node;
      continue;
    }
    const created = emptyMap(node.origin);
    parent.entries.set(step, { key: entry?.key ?? node.origin, node: created });
    parent = created;
  }
  const last = path[path.length - 1];
  parent.entries.set(last, { key: parent.entries.get(last)?.key ?? node.origin, node });
}

function _position(node: unknown, lineCounter: LineCounter): Origin {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  if (!range) return {};
  const { line, col } = lineCounter.linePos(range[0]);
  return { line, column: col };
}
