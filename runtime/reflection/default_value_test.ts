import assert from "node:assert/strict";
import { defaultValueText } from "./default_value.ts";
import { FieldType } from "./descriptor_types.ts";

Deno.test("defaultValueText() spells floats, booleans and enums as protoc does", () => {
  assert.equal(defaultValueText(Infinity, FieldType.DOUBLE), "inf");
  assert.equal(defaultValueText(-Infinity, FieldType.FLOAT), "-inf");
  assert.equal(defaultValueText(NaN, FieldType.DOUBLE), "nan");
  assert.equal(defaultValueText(-1.5, FieldType.FLOAT), "-1.5");
  assert.equal(defaultValueText(true, FieldType.BOOL), "true");
  assert.equal(defaultValueText("B", FieldType.ENUM), "B");
  assert.equal(defaultValueText("plain text", FieldType.STRING), "plain text");
});

Deno.test("defaultValueText() C-escapes bytes", () => {
  assert.equal(defaultValueText('a\u0001"\n\\\u00ff', FieldType.BYTES), 'a\\001\\"\\n\\\\\\377');
});
