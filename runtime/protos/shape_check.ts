/**
 * Compiles, once per message type, a strict check of the plain objects
 * handlers return, so a wrong value fails with the field's path instead of
 * being silently coerced by protobufjs's `fromObject`.
 * @module
 */
import protobuf from "protobufjs";
import { isSyntheticOneof } from "./oneofs.ts";
import { MessageShapeError } from "./types.ts";
import {
  describeValue,
  enumCheck,
  isPlainObject,
  mapKeyCheck,
  type ScalarCheck,
  scalarCheck,
} from "./shape_scalars.ts";

/** Path segments innermost first, and the message. Allocated only on failure. */
interface _Problem {
  segments: string[];
  message: string;
}

type _MessageCheck = (value: Record<string, unknown>, depth: number) => _Problem | null;
type _FieldCheck = (value: unknown, depth: number) => _Problem | null;

const MAX_DEPTH = 100;

/**
 * Builds the checks for message types, sharing compiled checks between types
 * that reference each other (recursion included).
 *
 * @example
 * ```ts
 * const compile = createShapeChecker();
 * const check = compile(root.lookupType("helloworld.HelloReply"));
 * check({ message: 1 }); // throws MessageShapeError: field "message"
 * ```
 */
export function createShapeChecker(): (type: protobuf.Type) => (value: unknown) => void {
  const compiled = new Map<protobuf.Type, { check: _MessageCheck | null }>();
  const holderFor = (type: protobuf.Type) => {
    let holder = compiled.get(type);
    if (!holder) {
      holder = { check: null };
      compiled.set(type, holder);
      holder.check = _compileMessage(type, holderFor);
    }
    return holder;
  };
  return function compileShapeCheck(type) {
    const holder = holderFor(type);
    const name = type.fullName.slice(1);
    return function checkShape(value) {
      if (!isPlainObject(value)) {
        throw new MessageShapeError(
          "",
          `${name}: expected a plain object, got ${describeValue(value)}`,
        );
      }
      const problem = holder.check!(value, 0);
      if (problem !== null) {
        throw new MessageShapeError(problem.segments.reverse().join("."), problem.message);
      }
    };
  };
}

function _compileMessage(
  type: protobuf.Type,
  holderFor: (type: protobuf.Type) => { check: _MessageCheck | null },
): _MessageCheck {
  const typeName = type.fullName.slice(1);
  const fields: Record<string, _FieldCheck> = Object.create(null);
  for (const field of type.fieldsArray) {
    fields[field.name] = _compileField(typeName, field, holderFor);
  }
  const oneofs = type.oneofsArray
    .filter((o) => !isSyntheticOneof(o))
    .map((o) => ({ name: o.name, members: o.fieldsArray.map((f) => f.name) }));
  const required = type.fieldsArray.filter((f) => f.required).map((f) => f.name);
  const virtual: Record<string, readonly string[]> = Object.create(null);
  for (const oneof of type.oneofsArray) virtual[oneof.name] = oneof.fieldsArray.map((f) => f.name);

  return function checkMessage(value, depth) {
    if (depth > MAX_DEPTH) {
      return { segments: [], message: `${typeName}: nested more than ${MAX_DEPTH} levels deep` };
    }
    for (const key in value) {
      const v = value[key];
      if (v === undefined || v === null) continue;
      const check = fields[key];
      if (check !== undefined) {
        const problem = check(v, depth);
        if (problem !== null) return problem;
      } else if (virtual[key] !== undefined) {
        if (typeof v !== "string" || !virtual[key].includes(v)) {
          const names = virtual[key].map((n) => `"${n}"`).join(", ");
          return _problem(
            key,
            `${typeName}.${key}: expected the name of the set oneof member (${names}), got ${
              typeof v === "string" ? `"${v}"` : describeValue(v)
            }`,
          );
        }
      } else {
        return _problem(key, `unknown field "${key}" in ${typeName}${_hint(key, type)}`);
      }
    }
    for (const name of required) {
      if (value[name] === undefined || value[name] === null) {
        return _problem(name, `${typeName}.${name}: required field is not set`);
      }
    }
    for (const oneof of oneofs) {
      let first: string | null = null;
      for (const member of oneof.members) {
        if (value[member] === undefined || value[member] === null) continue;
        if (first === null) first = member;
        else {
          return _problem(
            member,
            `${typeName}: oneof "${oneof.name}" has both "${first}" and "${member}" set; set at most one`,
          );
        }
      }
    }
    return null;
  };
}

function _compileField(
  typeName: string,
  field: protobuf.Field,
  holderFor: (type: protobuf.Type) => { check: _MessageCheck | null },
): _FieldCheck {
  const name = field.name;
  const label = `${typeName}.${name}`;
  const element = _compileValue(field, holderFor);
  if (field instanceof protobuf.MapField) {
    const keyCheck = mapKeyCheck(field.keyType);
    return function checkMap(value, depth) {
      if (!isPlainObject(value)) {
        return _problem(
          name,
          `${label}: expected a plain object (map), got ${describeValue(value)}`,
        );
      }
      for (const key in value) {
        const segment = `${name}[${JSON.stringify(key)}]`;
        const keyProblem = keyCheck(key);
        if (keyProblem !== null) return _problem(segment, `${label}: ${keyProblem}, got "${key}"`);
        const problem = element(value[key], depth, segment, `${label}[${JSON.stringify(key)}]`);
        if (problem !== null) return problem;
      }
      return null;
    };
  }
  if (field.repeated) {
    return function checkRepeated(value, depth) {
      if (!Array.isArray(value)) {
        return _problem(name, `${label}: expected an array, got ${describeValue(value)}`);
      }
      for (let i = 0; i < value.length; i++) {
        const problem = element(value[i], depth, `${name}[${i}]`, `${label}[${i}]`);
        if (problem !== null) return problem;
      }
      return null;
    };
  }
  return (value, depth) => element(value, depth, name, label);
}

type _ValueCheck = (
  value: unknown,
  depth: number,
  segment: string,
  label: string,
) => _Problem | null;

function _compileValue(
  field: protobuf.Field,
  holderFor: (type: protobuf.Type) => { check: _MessageCheck | null },
): _ValueCheck {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Type) {
    // Looked up at call time: the target may still be compiling (recursive types).
    const typeName = resolved.fullName.slice(1);
    let holder: { check: _MessageCheck | null } | null = null;
    return function checkNested(value, depth, segment, label) {
      if (!isPlainObject(value)) {
        return _problem(
          segment,
          `${label}: expected ${typeName} (a plain object), got ${describeValue(value)}`,
        );
      }
      holder ??= holderFor(resolved);
      const problem = holder.check!(value, depth + 1);
      if (problem !== null) problem.segments.push(segment);
      return problem;
    };
  }
  const check: ScalarCheck = resolved instanceof protobuf.Enum
    ? enumCheck(resolved)
    : scalarCheck(field.type) ?? (() => `unsupported field type ${field.type}`);
  return function checkScalar(value, _depth, segment, label) {
    const reason = check(value);
    return reason === null ? null : _problem(segment, `${label}: ${reason}`);
  };
}

function _problem(segment: string, message: string): _Problem {
  return { segments: [segment], message };
}

function _hint(key: string, type: protobuf.Type): string {
  const camel = protobuf.util.camelCase(key);
  if (camel !== key && type.fields[camel]) return ` (did you mean "${camel}"?)`;
  const lower = key.toLowerCase();
  const close = type.fieldsArray.find((f) =>
    f.name.toLowerCase() === lower || (key.length > 3 && _distance(f.name, key) <= 2)
  );
  return close ? ` (did you mean "${close.name}"?)` : "";
}

function _distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
