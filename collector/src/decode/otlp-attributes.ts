import type { Attributes } from '../model/types.ts'
import { MAX_VALUE_DEPTH, base64, doubleJson, newAttributes } from './decode-result.ts'
import { I64, LEN, VARINT, type ProtobufReader } from './protobuf-reader.ts'

/*
 * OTLP attributes in protobuf: KeyValue { 1 key, 2 value } and AnyValue { 1 string, 2 bool,
 * 3 int, 4 double, 5 array, 6 kvlist, 7 bytes }, flattened to strings as the store keeps
 * them (arrays and kvlists as JSON text, bytes as base64).
 */

/** Reads the attributes of a Resource (field `field` of `message`) into a new map. */
export function attributesOf(r: ProtobufReader, end: number, field: number, message: string): Attributes {
  const attributes = newAttributes()
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === field) {
      r.expect(tag, LEN, `${message}.attributes`)
      keyValue(r, r.delimitedEnd(), attributes)
    } else r.skip(tag)
  }
  r.endOf(end, message)
  return attributes
}

/** Reads one KeyValue into `attributes`, the value flattened to a string. */
export function keyValue(r: ProtobufReader, end: number, attributes: Attributes): void {
  let key = ''
  let value = ''
  while (r.pos < end) {
    const tag = r.tag()
    const field = tag >>> 3
    if (field === 1) {
      r.expect(tag, LEN, 'KeyValue.key')
      key = r.string()
    } else if (field === 2) {
      r.expect(tag, LEN, 'KeyValue.value')
      value = anyValue(r, r.delimitedEnd(), 0)
    } else r.skip(tag)
  }
  r.endOf(end, 'KeyValue')
  attributes[key] = value
}

/**
 * An AnyValue as text. At depth 0 (an attribute's own value) strings are as is and an empty
 * value is ''; inside arrays and kvlists every value is JSON text, so the attribute reads
 * as the JSON of its array or map. Ints are decimal digits, exact for all of int64.
 */
function anyValue(r: ProtobufReader, end: number, depth: number): string {
  if (depth > MAX_VALUE_DEPTH) r.fail(`AnyValue nested deeper than ${MAX_VALUE_DEPTH} levels`)
  let text = depth === 0 ? '' : 'null'
  while (r.pos < end) {
    const tag = r.tag()
    switch (tag >>> 3) {
      case 1: {
        r.expect(tag, LEN, 'AnyValue.string_value')
        const s = r.string()
        text = depth === 0 ? s : JSON.stringify(s)
        break
      }
      case 2:
        r.expect(tag, VARINT, 'AnyValue.bool_value')
        text = r.bool() ? 'true' : 'false'
        break
      case 3:
        r.expect(tag, VARINT, 'AnyValue.int_value')
        text = r.int64String()
        break
      case 4: {
        r.expect(tag, I64, 'AnyValue.double_value')
        const d = r.double()
        text = depth === 0 ? String(d) : doubleJson(d)
        break
      }
      case 5:
        r.expect(tag, LEN, 'AnyValue.array_value')
        text = arrayJson(r, r.delimitedEnd(), depth + 1)
        break
      case 6:
        r.expect(tag, LEN, 'AnyValue.kvlist_value')
        text = kvlistJson(r, r.delimitedEnd(), depth + 1)
        break
      case 7: {
        r.expect(tag, LEN, 'AnyValue.bytes_value')
        const s = base64(r.bytes())
        text = depth === 0 ? s : `"${s}"`
        break
      }
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'AnyValue')
  return text
}

function arrayJson(r: ProtobufReader, end: number, depth: number): string {
  let json = '['
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === 1) {
      r.expect(tag, LEN, 'ArrayValue.values')
      if (json.length > 1) json += ','
      json += anyValue(r, r.delimitedEnd(), depth)
    } else r.skip(tag)
  }
  r.endOf(end, 'ArrayValue')
  return json + ']'
}

function kvlistJson(r: ProtobufReader, end: number, depth: number): string {
  let json = '{'
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 !== 1) {
      r.skip(tag)
      continue
    }
    r.expect(tag, LEN, 'KeyValueList.values')
    const kvEnd = r.delimitedEnd()
    let key = ''
    let value = 'null'
    while (r.pos < kvEnd) {
      const t = r.tag()
      if (t >>> 3 === 1) {
        r.expect(t, LEN, 'KeyValue.key')
        key = r.string()
      } else if (t >>> 3 === 2) {
        r.expect(t, LEN, 'KeyValue.value')
        value = anyValue(r, r.delimitedEnd(), depth)
      } else r.skip(t)
    }
    r.endOf(kvEnd, 'KeyValue')
    if (json.length > 1) json += ','
    json += `${JSON.stringify(key)}:${value}`
  }
  r.endOf(end, 'KeyValueList')
  return json + '}'
}
