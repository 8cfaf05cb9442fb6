/**
 * What a message will cost once decoded, estimated from its wire form
 * before it is decoded. Decoding amplifies: an empty sub-message is 2 bytes
 * on the wire and a few hundred bytes as JavaScript objects (protobufjs's
 * instance, then the plain object handlers get), so one 4 MiB request of 2
 * million empty sub-messages grew RSS by 1 GiB and killed a process with a
 * 512 MiB heap (issue 19). grpc-go pays about 50 bytes for the same.
 *
 * The estimate walks the wire format once, knowing the message types: each
 * sub-message costs an object of its fields, each repeated element its
 * slot, each string its length; unknown fields cost nothing (protobufjs
 * skips them). It is deliberately rough and on the high side; what matters
 * is that it grows with what decoding will allocate, not with wire bytes.
 * Messages under {@link SCAN_FROM_BYTES} are not scanned: they cannot
 * amplify past a few MiB.
 * @module
 */
import protobuf from "protobufjs";

/** Messages smaller than this are decoded without an estimate. */
export const SCAN_FROM_BYTES = 64 * 1024;
/** Below this depth the walk stops and charges the rest of the bytes pessimistically. */
const MAX_DEPTH = 64;
/** Bytes charged per wire byte past MAX_DEPTH (as if all of it were empty sub-messages). */
const DEEP_BYTE_COST = 256;
// Costs in heap bytes, measured on Deno 2.8.3 (heapUsed growth over decoding
// 2-8 MiB messages of each shape, garbage included, since that is the peak):
/** An object: protobufjs's instance plus the plain copy, a header and a slot per field. */
const OBJECT_BASE = 2 * 72;
const OBJECT_PER_FIELD = 2 * 40;
/** A repeated number or bool: a slot in two arrays, with growth slack. */
const NUMBER_COST = 44;
/** A repeated 64-bit integer: a Long while decoding, then a decimal string. */
const LONG_COST = 96;
/** A string or bytes field: the string (or Buffer view) object itself. */
const STRING_BASE = 56;
const BYTES_COST = 170;
/** A map entry: the property, plus its key. */
const MAP_ENTRY_COST = 64;

/** Thrown when a message would decode to more than the limit; names the field that weighs most. */
export class DecodeBudgetError extends Error {
  override readonly name = "DecodeBudgetError";
  /** Path of the heaviest field, e.g. `items` or `batch.rows`. */
  readonly field: string;
  /** How many elements that field had. */
  readonly count: number;
  /** The estimate, in bytes. */
  readonly estimate: number;
  constructor(type: string, field: string, count: number, estimate: number, limit: number) {
    super(
      `${type} would decode to about ${mib(estimate)} in memory, over the ${mib(limit)} ` +
        `allowed (server.maxDecodedMessageBytes); ${field || "the message"} has ${
          count.toLocaleString("en-US")
        } elements`,
    );
    this.field = field;
    this.count = count;
    this.estimate = estimate;
  }
}

const enum Kind {
  Message,
  Map,
  String,
  Bytes,
  Number,
  Long,
  Other,
}

interface FieldModel {
  readonly name: string;
  readonly kind: Kind;
  readonly repeated: boolean;
  /** Packed element width: 0 varint, 4 or 8 fixed; -1 not packable. */
  readonly width: number;
  /** Sub-message model (message fields; a map's value when it is a message). */
  sub: TypeModel | null;
}

interface TypeModel {
  readonly name: string;
  readonly objectCost: number;
  readonly fields: Map<number, FieldModel>;
  /** The same fields by number, for numbers below 1024 (almost all). */
  readonly byId: (FieldModel | undefined)[];
}

/** Counts per field while walking, to name the heaviest (by path, built once per field). */
interface Tally {
  field: string;
  count: number;
  counts: Map<FieldModel, number>;
  paths: Map<FieldModel, string>;
}

/**
 * Returns a function that estimates, for a message of `type`, the bytes
 * decoding will allocate, and throws {@link DecodeBudgetError} past `limit`.
 * It returns the estimate.
 * Callers skip it for messages under {@link SCAN_FROM_BYTES}.
 *
 * @example
 * ```ts
 * const check = decodeBudget(root.lookupType("pkg.Batch"), 64 * 2 ** 20);
 * check(bytes); // throws DecodeBudgetError for a bomb
 * ```
 */
export function decodeBudget(type: protobuf.Type, limit: number): (bytes: Uint8Array) => number {
  let model: TypeModel | null = null;
  return function checkDecodeBudget(bytes) {
    model ??= modelOf(type, new Map());
    const tally: Tally = { field: "", count: 0, counts: new Map(), paths: new Map() };
    const estimate = model.objectCost + walk(model, bytes, 0, bytes.length, 0, "", tally);
    if (estimate > limit) {
      throw new DecodeBudgetError(
        type.fullName.replace(/^\./, ""),
        tally.field,
        tally.count,
        estimate,
        limit,
      );
    }
    return estimate;
  };
}

/** The estimated cost of the fields in `bytes[start, end)` of a `model` message. */
function walk(
  model: TypeModel,
  bytes: Uint8Array,
  start: number,
  end: number,
  depth: number,
  path: string,
  tally: Tally,
): number {
  let cost = 0;
  let pos = start;
  while (pos < end) {
    // The tag: a varint.
    let tag = 0, shift = 0, b = 0;
    do {
      if (pos >= end || shift > 28) return cost; // truncated: the decoder will refuse it
      b = bytes[pos++];
      tag |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    const id = tag >>> 3;
    const field = id < 1024 ? model.byId[id] : model.fields.get(id);
    switch (tag & 7) {
      case 0: // varint
        while (pos < end && bytes[pos++] & 0x80) { /* skip */ }
        if (field) cost += scalarCost(field, 1, path, tally);
        break;
      case 1: // fixed64
        pos += 8;
        if (field) cost += scalarCost(field, 1, path, tally);
        break;
      case 5: // fixed32
        pos += 4;
        if (field) cost += scalarCost(field, 1, path, tally);
        break;
      case 2: { // length-delimited
        let length = 0;
        shift = 0;
        do {
          if (pos >= end || shift > 28) return cost;
          b = bytes[pos++];
          length += (b & 0x7f) * 2 ** shift;
          shift += 7;
        } while (b & 0x80);
        const from = pos;
        pos += length;
        if (pos > end) return cost;
        if (!field) break;
        cost += lengthDelimitedCost(field, bytes, from, pos, depth, path, tally);
        break;
      }
      default: // groups (proto2) and invalid wire types: the rest, pessimistically
        return cost + (end - pos) * DEEP_BYTE_COST;
    }
  }
  return cost;
}

function lengthDelimitedCost(
  field: FieldModel,
  bytes: Uint8Array,
  from: number,
  to: number,
  depth: number,
  path: string,
  tally: Tally,
): number {
  switch (field.kind) {
    case Kind.Message:
    case Kind.Map: {
      const name = count(tally, field, path, 1);
      const base = field.kind === Kind.Map ? MAP_ENTRY_COST : 0;
      const sub = field.sub;
      if (sub === null) return base + (to - from); // a map of scalars: key and value
      if (depth >= MAX_DEPTH) return base + sub.objectCost + (to - from) * DEEP_BYTE_COST;
      return base + sub.objectCost + walk(sub, bytes, from, to, depth + 1, name, tally);
    }
    case Kind.String:
      count(tally, field, path, 1);
      return STRING_BASE + 2 * (to - from);
    case Kind.Bytes:
      count(tally, field, path, 1);
      return BYTES_COST;
    default: {
      // A packed run of numbers.
      if (field.width < 0) return 0;
      let n = 0;
      if (field.width === 0) {
        for (let i = from; i < to; i++) if ((bytes[i] & 0x80) === 0) n++;
      } else n = Math.floor((to - from) / field.width);
      return scalarCost(field, n, path, tally);
    }
  }
}

function scalarCost(field: FieldModel, n: number, path: string, tally: Tally): number {
  if (!field.repeated) return 0; // overwritten, not accumulated
  count(tally, field, path, n);
  return n * (field.kind === Kind.Long ? LONG_COST : NUMBER_COST);
}

/** Adds `n` elements of `field` (met under `path`); returns the field's path. */
function count(tally: Tally, field: FieldModel, path: string, n: number): string {
  let name = tally.paths.get(field);
  if (name === undefined) {
    name = path ? `${path}.${field.name}` : field.name;
    tally.paths.set(field, name);
  }
  const total = (tally.counts.get(field) ?? 0) + n;
  tally.counts.set(field, total);
  if (total > tally.count) {
    tally.count = total;
    tally.field = name;
  }
  return name;
}

/** The walk's view of a type; shared by recursive references. */
function modelOf(type: protobuf.Type, seen: Map<protobuf.Type, TypeModel>): TypeModel {
  const known = seen.get(type);
  if (known) return known;
  const fields = new Map<number, FieldModel>();
  const byId: (FieldModel | undefined)[] = [];
  const model: TypeModel = {
    name: type.fullName,
    objectCost: OBJECT_BASE + OBJECT_PER_FIELD * type.fieldsArray.length,
    fields,
    byId,
  };
  seen.set(type, model);
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    if (field.map) {
      const value = resolved instanceof protobuf.Type ? resolved : null;
      fields.set(field.id, {
        name: field.name,
        kind: Kind.Map,
        repeated: true,
        width: -1,
        sub: value ? entryModel(value, seen) : null,
      });
      continue;
    }
    const kind = resolved instanceof protobuf.Type
      ? Kind.Message
      : field.type === "string"
      ? Kind.String
      : field.type === "bytes"
      ? Kind.Bytes
      : /64$/.test(field.type)
      ? Kind.Long
      : Kind.Number;
    const width = /^(fixed64|sfixed64|double)$/.test(field.type)
      ? 8
      : /^(fixed32|sfixed32|float)$/.test(field.type)
      ? 4
      : kind === Kind.Number || kind === Kind.Long
      ? 0
      : -1;
    fields.set(field.id, {
      name: field.name,
      kind,
      repeated: field.repeated,
      width,
      sub: null,
    });
    if (kind === Kind.Message) fields.get(field.id)!.sub = modelOf(resolved as protobuf.Type, seen);
  }
  for (const [id, field] of fields) if (id < 1024) byId[id] = field;
  return model;
}

/** A map entry whose value is a message: field 2 holds it. */
function entryModel(value: protobuf.Type, seen: Map<protobuf.Type, TypeModel>): TypeModel {
  const fields = new Map<number, FieldModel>();
  const value2: FieldModel = {
    name: "value",
    kind: Kind.Message,
    repeated: false,
    width: -1,
    sub: null,
  };
  fields.set(2, value2);
  const model: TypeModel = { name: `${value.fullName} entry`, objectCost: 0, fields, byId: [] };
  model.byId[2] = value2;
  value2.sub = modelOf(value, seen);
  return model;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`;
}
