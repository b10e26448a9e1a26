// JSON Schemas the JSON-mode tests use: nesting, optional properties, enums and consts of every type, recursion
// through $ref, anyOf, and additional properties with a schema.
export const SCHEMAS: Record<string, Record<string, unknown>> = {
  person: {
    type: 'object',
    properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer' }, email: { type: 'string' }, tags: { type: 'array', items: { type: 'string', maxLength: 5 }, maxItems: 3 } },
    required: ['name', 'age'],
    additionalProperties: false,
  },
  kinds: {
    type: 'object',
    properties: {
      kind: { enum: ['cat', 'dog', 42, null] },
      score: { type: 'number' },
      ok: { type: 'boolean' },
      note: { type: ['string', 'null'], minLength: 2, maxLength: 4 },
      fixed: { const: { a: [1, 'x'] } },
    },
    required: ['kind', 'ok', 'fixed'],
  },
  tree: {
    $defs: { node: { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 2 } }, required: ['value'] } },
    $ref: '#/$defs/node',
  },
  list: { type: 'array', items: { anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 3 }] }, minItems: 1, maxItems: 5 },
  open: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'], additionalProperties: { type: 'boolean' } },
};
