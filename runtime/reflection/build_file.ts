/**
 * Turns a {@link FileModel} into a `FileDescriptorProto` the way protoc
 * does: fully-qualified type names with a leading dot, json names, map
 * entry messages, proto3 optional fields with synthetic oneofs after the
 * real ones, exclusive range ends, and options (custom ones included).
 *
 * One known difference: protoc puts a map's entry message among the nested
 * messages in declaration order; the parsed protos do not keep that order,
 * so entries come after the declared nested messages.
 * @module
 */
import protobuf from "protobufjs";
import {
  type EnumProto,
  FieldLabel,
  type FieldProto,
  FieldType,
  type FileProto,
  type MessageProto,
  type ServiceProto,
} from "./descriptor_types.ts";
import type { FileModel } from "./file_model.ts";
import { defaultValueText } from "./default_value.ts";
import { encodeOptions, isGroupType, optionEntries } from "./options.ts";

const _SCALARS: Record<string, number> = {
  double: FieldType.DOUBLE,
  float: FieldType.FLOAT,
  int64: FieldType.INT64,
  uint64: FieldType.UINT64,
  int32: FieldType.INT32,
  fixed64: FieldType.FIXED64,
  fixed32: FieldType.FIXED32,
  bool: FieldType.BOOL,
  string: FieldType.STRING,
  bytes: FieldType.BYTES,
  uint32: FieldType.UINT32,
  sfixed32: FieldType.SFIXED32,
  sfixed64: FieldType.SFIXED64,
  sint32: FieldType.SINT32,
  sint64: FieldType.SINT64,
};

/**
 * Builds the file descriptor of `model`.
 *
 * @example
 * ```ts
 * const bytes = encodeFileDescriptor(buildFile(modelFromSource(file, text, root)));
 * ```
 */
export function buildFile(model: FileModel): FileProto {
  const { file } = model;
  const out: FileProto = {
    name: file.name,
    dependency: model.imports.map((i) => i.name),
    publicDependency: _indexes(model, "public"),
    weakDependency: _indexes(model, "weak"),
    messageType: [],
    enumType: [],
    service: [],
    extension: [],
  };
  if (file.package) out.package = file.package;
  for (const object of model.objects) {
    if (object instanceof protobuf.Type) out.messageType.push(_message(object, model));
    else if (object instanceof protobuf.Enum) out.enumType.push(_enum(object, model));
    else if (object instanceof protobuf.Service) out.service.push(_service(object, model));
    else if (object instanceof protobuf.Field) out.extension.push(_field(object, model));
  }
  const options = encodeOptions("FileOptions", model.fileOptions, model.packageScope);
  if (options) out.options = options;
  if (file.syntax === "proto3") out.syntax = "proto3";
  if (file.syntax === "editions") {
    out.syntax = "editions";
    if (model.edition === "2023") out.edition = 1000;
  }
  return out;
}

function _indexes(model: FileModel, kind: "public" | "weak"): number[] {
  return model.imports.flatMap((i, index) => i.kind === kind ? [index] : []);
}

function _message(type: protobuf.Type, model: FileModel): MessageProto {
  const twin = model.twin(type);
  const out: MessageProto = {
    name: type.name,
    field: [],
    extension: [],
    nestedType: [],
    enumType: [],
    extensionRange: (type.extensions ?? []).map(([start, end]) => ({ start, end: end + 1 })),
    oneofDecl: [],
    reservedRange: [],
    reservedName: [],
  };
  for (const r of type.reserved ?? []) {
    if (typeof r === "string") out.reservedName.push(r);
    else out.reservedRange.push({ start: r[0], end: r[1] + 1 });
  }
  const fields = type.fieldsArray.filter((f) => !f.declaringField);
  const real = type.oneofsArray.filter((o) => !_isSynthetic(o));
  for (const oneof of real) {
    const decl: MessageProto["oneofDecl"][number] = { name: model.originalName(oneof) };
    const options = encodeOptions("OneofOptions", optionEntries(oneof), twin);
    if (options) decl.options = options;
    out.oneofDecl.push(decl);
  }
  const taken = new Set([
    ...fields.map((f) => model.originalName(f)),
    ...out.oneofDecl.map((o) => o.name),
    ...type.nestedArray.map((n) => n.name),
  ]);
  const entries: MessageProto[] = [];
  for (const field of fields) {
    const proto = _field(field, model);
    const oneof = field.partOf;
    if (oneof && _isSynthetic(oneof)) {
      let name = proto.name.startsWith("_") ? proto.name : `_${proto.name}`;
      while (taken.has(name)) name = `X${name}`;
      taken.add(name);
      proto.oneofIndex = out.oneofDecl.push({ name }) - 1;
      proto.proto3Optional = true;
    } else if (oneof) {
      proto.oneofIndex = real.indexOf(oneof);
    }
    if (field instanceof protobuf.MapField) entries.push(_mapEntry(field, proto, model));
    out.field.push(proto);
  }
  for (const nested of type.nestedArray) {
    if (nested instanceof protobuf.Type) out.nestedType.push(_message(nested, model));
    else if (nested instanceof protobuf.Enum) out.enumType.push(_enum(nested, model));
    else if (nested instanceof protobuf.Field) out.extension.push(_field(nested, model));
  }
  out.nestedType.push(...entries);
  const options = encodeOptions("MessageOptions", optionEntries(type), twin);
  if (options) out.options = options;
  return out;
}

function _isSynthetic(oneof: protobuf.OneOf): boolean {
  const only = oneof.fieldsArray.length === 1 ? oneof.fieldsArray[0] : undefined;
  return only?.options?.["proto3_optional"] === true;
}

function _field(field: protobuf.Field, model: FileModel): FieldProto {
  const twin = model.twin(field);
  twin.resolve();
  const resolved = twin.resolvedType;
  const group = resolved instanceof protobuf.Type && isGroupType(resolved);
  const name = group ? resolved.name.toLowerCase() : model.originalName(field);
  const jsonName = field.options?.["json_name"];
  const out: FieldProto = {
    name,
    number: field.id,
    // Editions write LEGACY_REQUIRED as a feature (kept in options), never as a label.
    label: twin.repeated || twin.map
      ? FieldLabel.REPEATED
      : twin.required && model.file.syntax !== "editions"
      ? FieldLabel.REQUIRED
      : FieldLabel.OPTIONAL,
    type: 0,
    jsonName: typeof jsonName === "string" ? jsonName : _jsonName(name),
  };
  if (field.map) {
    out.type = FieldType.MESSAGE;
    out.typeName = `${twin.parent!.fullName}.${_mapEntryName(name)}`;
  } else if (resolved) {
    out.type = resolved instanceof protobuf.Enum
      ? FieldType.ENUM
      : group
      ? FieldType.GROUP
      : FieldType.MESSAGE;
    out.typeName = resolved.fullName;
  } else {
    out.type = _scalar(twin.type);
  }
  if (field.extend !== undefined) {
    const extendee = twin.extensionField?.parent?.fullName ?? twin.extend;
    if (extendee) out.extendee = extendee.startsWith(".") ? extendee : `.${extendee}`;
  }
  const defaultValue = field.options?.["default"];
  if (defaultValue !== undefined) out.defaultValue = defaultValueText(defaultValue, out.type);
  const scope = twin.parent ?? model.packageScope;
  const options = encodeOptions("FieldOptions", optionEntries(field), scope);
  if (options) out.options = options;
  return out;
}

function _mapEntry(
  field: protobuf.MapField,
  proto: FieldProto,
  model: FileModel,
): MessageProto {
  const twin = model.twin(field) as protobuf.MapField;
  const resolved = twin.resolvedType;
  const value: FieldProto = {
    name: "value",
    number: 2,
    label: FieldLabel.OPTIONAL,
    type: resolved ? 0 : _scalar(twin.type),
    jsonName: "value",
  };
  if (resolved) {
    value.type = resolved instanceof protobuf.Enum ? FieldType.ENUM : FieldType.MESSAGE;
    value.typeName = resolved.fullName;
  }
  const key: FieldProto = {
    name: "key",
    number: 1,
    label: FieldLabel.OPTIONAL,
    type: _scalar(twin.keyType),
    jsonName: "key",
  };
  return {
    name: proto.typeName!.slice(proto.typeName!.lastIndexOf(".") + 1),
    field: [key, value],
    extension: [],
    nestedType: [],
    enumType: [],
    extensionRange: [],
    oneofDecl: [],
    options: encodeOptions("MessageOptions", [["map_entry", true]], null),
    reservedRange: [],
    reservedName: [],
  };
}

function _enum(enm: protobuf.Enum, model: FileModel): EnumProto {
  const twin = model.twin(enm);
  const valueOptions = (enm as protobuf.Enum & {
    valuesOptions?: Record<string, Record<string, unknown>>;
  }).valuesOptions ?? {};
  const out: EnumProto = {
    name: enm.name,
    value: Object.entries(enm.values).map(([name, number]) => {
      const value: EnumProto["value"][number] = { name, number };
      const entries = Object.entries(valueOptions[name] ?? {});
      const options = encodeOptions("EnumValueOptions", entries, twin.parent);
      if (options) value.options = options;
      return value;
    }),
    reservedRange: [],
    reservedName: [],
  };
  for (const r of enm.reserved ?? []) {
    if (typeof r === "string") out.reservedName.push(r);
    else out.reservedRange.push({ start: r[0], end: r[1] });
  }
  const options = encodeOptions("EnumOptions", optionEntries(enm), twin.parent);
  if (options) out.options = options;
  return out;
}

function _service(service: protobuf.Service, model: FileModel): ServiceProto {
  const twin = model.twin(service);
  const out: ServiceProto = { name: service.name, method: [] };
  for (const method of service.methodsArray) {
    const resolved = model.twin(method);
    resolved.resolve();
    out.method.push({
      name: method.name,
      inputType: resolved.resolvedRequestType?.fullName ?? `.${method.requestType}`,
      outputType: resolved.resolvedResponseType?.fullName ?? `.${method.responseType}`,
      ...(method.requestStream ? { clientStreaming: true } : {}),
      ...(method.responseStream ? { serverStreaming: true } : {}),
    });
    const options = encodeOptions("MethodOptions", optionEntries(method), twin.parent) ??
      (model.hasBody(method) ? new Uint8Array() : undefined);
    if (options) out.method[out.method.length - 1].options = options;
  }
  const options = encodeOptions("ServiceOptions", optionEntries(service), twin.parent);
  if (options) out.options = options;
  return out;
}

function _scalar(type: string): number {
  const number = _SCALARS[type];
  if (number === undefined) throw new Error(`cannot describe field type "${type}"`);
  return number;
}

/** protoc's `ToJsonName`: drop underscores, capitalise the letter after each. */
function _jsonName(name: string): string {
  return name.replace(/_+(.?)/g, (_, c: string) => c.toUpperCase());
}

/** protoc's `MapEntryName`: `names_by_id` → `NamesByIdEntry`. */
function _mapEntryName(name: string): string {
  return name.replace(/(?:^|_+)(.?)/g, (_, c: string) => c.toUpperCase()) + "Entry";
}
