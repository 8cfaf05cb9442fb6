/**
 * Oneof helpers shared by the shape check and type generation.
 * @module
 */
import type protobuf from "protobufjs";

/**
 * True for the one-member oneof protobufjs makes for a proto3 `optional`
 * field (named `_field`). Its virtual field shows up in decoded objects
 * (`_field: "field"`) but is not a real choice.
 *
 * @example
 * ```ts
 * type.oneofsArray.filter((o) => !isSyntheticOneof(o));
 * ```
 */
export function isSyntheticOneof(oneof: protobuf.OneOf): boolean {
  const only = oneof.fieldsArray.length === 1 ? oneof.fieldsArray[0] : undefined;
  return only !== undefined && oneof.name === `_${only.name}` &&
    only.options?.["proto3_optional"] === true;
}
