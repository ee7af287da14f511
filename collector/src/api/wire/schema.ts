/**
 * Building blocks of the API's response schemas (plain JSON Schema, as fastify takes them).
 *
 * fastify serializes an answer by its schema and silently drops any property the schema does
 * not list, and it throws on a missing required one: every schema here names every key of its
 * type (`satisfies Record<keyof T, object>`), requires those the type always has, and allows no
 * other unless the shape is an open map.
 */

export const STRING = { type: 'string' } as const
export const NULLABLE_STRING = { type: ['string', 'null'] } as const
/** ISO 8601, UTC. */
export const TIME = { type: 'string', format: 'date-time' } as const
export const NULLABLE_TIME = { type: ['string', 'null'], format: 'date-time' } as const
export const BOOLEAN = { type: 'boolean' } as const
/** A number given by a definition or a count. Not `integer`: the serializer would truncate a fraction. */
export const NUMBER = { type: 'number' } as const
/**
 * A number read from the data (an SLI, a burn rate, a statistic, a point), or null. No type:
 * the serializer throws on NaN where JSON.stringify writes null, and a NaN sent by an app must
 * read null, as it always has, rather than fail the answer.
 */
export const MEASURED = {} as const
export const STRINGS = { type: 'array', items: STRING } as const
export const NULLABLE_STRINGS = { type: ['array', 'null'], items: STRING } as const
/** Labels and attributes: names to values. */
export const LABELS = { type: 'object', additionalProperties: STRING } as const
/** Data whose fields the caller chose (an event's `data`): written as it was given. */
export const ANY_OBJECT = { type: 'object', additionalProperties: true } as const

/** An object schema whose every property is required and which allows no other. */
export function exactly<P extends Record<string, object>>(properties: P) {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false } as const
}

/** An object schema of `properties`, each required but those named `optional`, and no other. */
export function someOf<P extends Record<string, object>>(properties: P, optional: readonly (keyof P & string)[]) {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  } as const
}

export function arrayOf<S extends object>(items: S) {
  return { type: 'array', items } as const
}
