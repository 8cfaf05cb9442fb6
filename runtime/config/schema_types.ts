/**
 * The building blocks of the config schema: one {@link Field} per key, with
 * its type, default and a one-line doc. Builders return {@link Typed} fields
 * so `schema.ts` can check the schema's shape against `ResolvedConfig` at
 * compile time.
 * @module
 */

interface FieldBase {
  /** One line for the reference table. */
  doc: string;
  /**
   * The default, written as it would be in YAML (`"2h"`, `["proto"]`), so it
   * goes through the same resolution as user input. `null` makes the key
   * nullable with a null default; `undefined` means required or optional.
   */
  default?: unknown;
  /** The key must be present whenever its parent is. */
  required?: boolean;
  /** Shown in the reference instead of `default` (e.g. `ceil(rate)`). */
  defaultText?: string;
}

/** A string, optionally matching `pattern`. */
export interface StringField extends FieldBase {
  kind: "string";
  pattern?: RegExp;
  /** What a valid value looks like, for messages (`a host name or IP address`). */
  expected?: string;
  /** Applied to a valid value (e.g. lower-casing a header name). */
  normalize?: (value: string) => string;
}

/** A whole number in `min`..`max`. */
export interface IntegerField extends FieldBase {
  kind: "integer";
  min: number;
  max?: number;
  expected?: string;
}

/** A finite number greater than `above`, or within `min`-`max` (inclusive). */
export interface NumberField extends FieldBase {
  kind: "number";
  above?: number;
  min?: number;
  max?: number;
}

/** `true` or `false`. */
export interface BooleanField extends FieldBase {
  kind: "boolean";
}

/** One of a fixed set of strings. */
export interface EnumField extends FieldBase {
  kind: "enum";
  values: readonly string[];
}

/** A duration string such as `"10s"`, resolved to milliseconds, at least `min`. */
export interface DurationField extends FieldBase {
  kind: "duration";
  min: number;
}

/** A path resolved against the config file's directory; it must exist. */
export interface PathField extends FieldBase {
  kind: "path";
  mustBe: "file" | "directory" | "file or directory";
}

/** A YAML sequence of `item`. */
export interface ListField extends FieldBase {
  kind: "list";
  item: Field;
}

/** A mapping with user-chosen keys (`keyName` in the reference) and `value` values. */
export interface RecordField extends FieldBase {
  kind: "record";
  value: Field;
  keyName: string;
  keyPattern?: RegExp;
  keyExpected?: string;
}

/** A mapping with fixed keys. */
export interface ObjectField extends FieldBase {
  kind: "object";
  fields: Readonly<Record<string, Field>>;
  /** Fills derived defaults once the fields are resolved. */
  finish?: (value: Record<string, unknown>) => void;
}

/** Any schema node. */
export type Field =
  | StringField
  | IntegerField
  | NumberField
  | BooleanField
  | EnumField
  | DurationField
  | PathField
  | ListField
  | RecordField
  | ObjectField;

/** A field that is neither a list, a record nor an object. */
export type LeafField = Exclude<Field, ListField | RecordField | ObjectField>;

declare const RESOLVED: unique symbol;

/** A field tagged (at the type level only) with the type it resolves to. */
export type Typed<F extends Field, T> = F & { readonly [RESOLVED]?: (value: T) => T };

/** The type a {@link Typed} field resolves to. */
export type ResolvedOf<F> = F extends { readonly [RESOLVED]?: (value: infer T) => unknown } ? T
  : never;

type Options<V> = Omit<FieldBase, "default"> & { default?: V };

/** A string key. */
export function string(
  options: Options<string> & Pick<StringField, "pattern" | "expected" | "normalize">,
): Typed<StringField, string> {
  return { kind: "string", ...options };
}

/** An integer key. */
export function integer(
  options: Options<number> & Pick<IntegerField, "min" | "max" | "expected">,
): Typed<IntegerField, number> {
  return { kind: "integer", ...options };
}

/** A TCP port, 0-65535 (0 picks a free port). */
export function port(options: Options<number>): Typed<IntegerField, number> {
  return integer({ ...options, min: 0, max: 65535, expected: "a port number 0-65535" });
}

/** A number key. */
export function number(
  options: Options<number> & ({ above: number } | { min: number; max: number }),
): Typed<NumberField, number> {
  return { kind: "number", ...options };
}

/** A boolean key. */
export function boolean(options: Options<boolean>): Typed<BooleanField, boolean> {
  return { kind: "boolean", ...options };
}

/** A key holding one of `values`. */
export function oneOf<const V extends readonly string[]>(
  values: V,
  options: Options<V[number]>,
): Typed<EnumField, V[number]> {
  return { kind: "enum", values, ...options };
}

/** A duration key; the default is written as a duration string. */
export function duration(
  options: Options<string> & { min?: number },
): Typed<DurationField, number> {
  return { kind: "duration", min: 0, ...options };
}

/** A path key; the default is written relative to the config file. */
export function path(
  options: Options<string> & Pick<PathField, "mustBe">,
): Typed<PathField, string> {
  return { kind: "path", ...options };
}

/** A list key. */
export function list<T>(item: Typed<Field, T>, options: Options<unknown[]>): Typed<ListField, T[]> {
  return { kind: "list", item, ...options };
}

/** A key holding a mapping from user-chosen names to `value`. */
export function record<T>(
  value: Typed<Field, T>,
  options:
    & Options<Record<string, unknown>>
    & Pick<RecordField, "keyName" | "keyPattern" | "keyExpected">,
): Typed<RecordField, Record<string, T>> {
  return { kind: "record", value, ...options };
}

/** A section with fixed keys. */
export function object<F extends Record<string, Field>>(
  fields: F,
  options: Omit<FieldBase, "default" | "required"> & Pick<ObjectField, "finish">,
): Typed<ObjectField, { -readonly [K in keyof F]: ResolvedOf<F[K]> }> {
  return { kind: "object", fields, ...options };
}

/** Makes a field nullable, with `null` as its default. */
export function nullable<F extends Field, T>(field: Typed<F, T>): Typed<F, T | null> {
  return { ...field, default: null } as Typed<F, T | null>;
}

/** Marks a field as required whenever its parent is given. */
export function required<F extends Field, T>(field: Typed<F, T>): Typed<F, T> {
  return { ...field, required: true } as Typed<F, T>;
}
