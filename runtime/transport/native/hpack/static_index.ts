// O(1) lookups into the RFC 7541 Appendix A static table for the encoder.
import { STATIC_TABLE } from "./static_table.ts";

/** What the static table offers for one header name. */
export interface StaticName {
  /** Lowest HPACK index with this name. */
  readonly nameIndex: number;
  /** value -> HPACK index of the exact [name, value] entry. */
  readonly values: ReadonlyMap<string, number>;
}

/** Header name -> its static table entries. */
export const STATIC_INDEX: ReadonlyMap<string, StaticName> = buildIndex();

function buildIndex(): Map<string, StaticName> {
  const index = new Map<string, { nameIndex: number; values: Map<string, number> }>();
  STATIC_TABLE.forEach(([name, value], i) => {
    let entry = index.get(name);
    if (entry === undefined) {
      entry = { nameIndex: i + 1, values: new Map() };
      index.set(name, entry);
    }
    if (!entry.values.has(value)) entry.values.set(value, i + 1);
  });
  return index;
}
