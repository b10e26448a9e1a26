// JSON Schema → byte grammar (grammar.ts), like llama.cpp's json-schema-to-grammar: objects list their
// properties in the schema's order (required ones always, optional ones may be left out), additional properties
// only where additionalProperties says so (true or a schema; leaving it out means none, as in OpenAI's strict
// mode), arrays with minItems/maxItems, strings with minLength/maxLength, enum/const, anyOf/oneOf, allOf of one,
// $ref into #/$defs or #/definitions (recursion included), type lists. Whitespace is limited (one space, or a
// newline and up to 20 spaces/tabs) and numbers to 16 digits so that a model cannot ramble forever inside them.
// Keywords that would need checks a grammar cannot express here (minimum, pattern, format, ...) are refused with
// an UnsupportedError rather than silently ignored.
import { UnsupportedError, InvalidRequestError } from '../../errors';
import { chars, GrammarBuilder, literal, type Element, type Ref, type Rule } from './grammar';

type Schema = Record<string, unknown> | boolean;

/** Annotations and keywords that do not constrain (or are implied by how the grammar is built). */
const IGNORED = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'strict', 'name']);
const HANDLED = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'prefixItems', 'minItems', 'maxItems', 'minLength', 'maxLength', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', '$ref', '$defs', 'definitions', 'nullable']);

export function grammarForJsonObject(): Rule[] {
  const j = new JsonGrammar({});
  j.b.define(0, [[...j.space(), { rule: j.anyObject() }]]);
  return j.b.rules;
}

export function grammarForSchema(schema: Record<string, unknown>): Rule[] {
  const j = new JsonGrammar(schema);
  j.b.define(0, [[...j.space(), ...j.value(schema, '#')]]);
  return j.b.rules;
}

/** JSON values of schemas as rules of a builder (several schemas can share one builder: a tool call's). */
export class JsonGrammar {
  private readonly refs = new Map<string, number>();

  /** `where` names the parameter in error messages; `root` is what $ref '#...' points into. */
  constructor(private readonly root: Record<string, unknown>, readonly b = new GrammarBuilder(), private readonly where = 'response_format') {}

  /** One space, or a newline and up to 20 spaces or tabs, or nothing. */
  space(): Element[] {
    if (!this.b.has('space')) {
      const indent = this.b.repeat([chars(' ', '\t')], 0, 20);
      this.b.define(this.b.declare('space'), [[], [chars(' ')], [chars('\n'), ...indent]]);
    }
    return [{ rule: this.b.declare('space') }];
  }

  value(schema: Schema, path: string): Element[] {
    if (schema === true || (typeof schema === 'object' && Object.keys(schema).every((k) => IGNORED.has(k)))) return [this.anyValue()];
    if (schema === false || typeof schema !== 'object' || schema === null) throw new InvalidRequestError(`${path}: a schema must be an object (or true), got ${JSON.stringify(schema)}`);
    for (const key of Object.keys(schema)) {
      if (!IGNORED.has(key) && !HANDLED.has(key)) throw new UnsupportedError(`${path}: JSON Schema keyword "${key}" is not supported in ${this.where} (Hearth constrains decoding with a grammar); remove it or check it yourself after generation`);
    }
    if (typeof schema.$ref === 'string') return [{ rule: this.ref(schema.$ref) }];
    if ('const' in schema) return this.constant(schema.const);
    if (Array.isArray(schema.enum)) return [this.b.alt(...schema.enum.map((v) => this.constant(v)))];
    const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (Array.isArray(variants)) return [this.b.alt(...variants.map((v, i) => this.value(v, `${path}/anyOf/${i}`)))];
    if (Array.isArray(schema.allOf)) {
      if (schema.allOf.length !== 1) throw new UnsupportedError(`${path}: allOf with more than one schema is not supported in ${this.where}`);
      return this.value(schema.allOf[0] as Schema, `${path}/allOf/0`);
    }
    const types = Array.isArray(schema.type) ? schema.type as string[] : schema.type !== undefined ? [schema.type as string] : inferTypes(schema);
    if (schema.nullable === true && !types.includes('null')) types.push('null');
    if (types.length === 0) return [this.anyValue()];
    return [this.b.alt(...types.map((t) => this.typed(t, schema, path)))];
  }

  /** Exactly `v`, with the grammar's whitespace allowed between the tokens of objects and arrays. */
  private constant(v: unknown): Element[] {
    if (Array.isArray(v)) {
      const items = v.map((x) => [...this.constant(x), ...this.space()]);
      return [...literal('['), ...this.space(), ...items.flatMap((item, i) => (i === 0 ? item : [...literal(','), ...this.space(), ...item])), ...literal(']')];
    }
    if (typeof v === 'object' && v !== null) {
      const pairs = Object.entries(v).map(([k, x]) => [...literal(JSON.stringify(k)), ...this.space(), ...literal(':'), ...this.space(), ...this.constant(x), ...this.space()]);
      return [...literal('{'), ...this.space(), ...pairs.flatMap((pair, i) => (i === 0 ? pair : [...literal(','), ...this.space(), ...pair])), ...literal('}')];
    }
    return literal(JSON.stringify(v));
  }

  private typed(type: string, s: Record<string, unknown>, path: string): Element[] {
    switch (type) {
      case 'object': return this.object(s, path);
      case 'array': return this.array(s, path);
      case 'string': return this.string(count(s.minLength, path, 0), count(s.maxLength, path, Infinity));
      case 'integer': return [this.integer()];
      case 'number': return [this.number()];
      case 'boolean': return [this.b.alt(literal('true'), literal('false'))];
      case 'null': return literal('null');
      default: throw new InvalidRequestError(`${path}: unknown JSON Schema type ${JSON.stringify(type)}`);
    }
  }

  private object(s: Record<string, unknown>, path: string): Element[] {
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    const names = Object.keys(properties);
    const required = new Set(Array.isArray(s.required) ? s.required as string[] : []);
    for (const r of required) if (!names.includes(r)) throw new UnsupportedError(`${path}: required property ${JSON.stringify(r)} has no schema in properties`);
    const extra = s.additionalProperties === undefined ? names.length === 0 : s.additionalProperties !== false;
    const extraValue = typeof s.additionalProperties === 'object' ? s.additionalProperties as Schema : true;
    const kv = names.map((name) => [...literal(JSON.stringify(name)), ...this.space(), ...literal(':'), ...this.space(), ...this.value(properties[name]!, `${path}/properties/${name}`), ...this.space()]);
    const comma = [...literal(','), ...this.space()];
    const extras = extra ? this.b.repeat([...comma, ...this.pair(extraValue, path)], 0, Infinity) : [];
    // first[k] / after[k]: the properties from k on, before any is written (no comma) / after one was.
    const first: number[] = names.map(() => this.b.declare()).concat(this.b.declare());
    const after: number[] = names.map(() => this.b.declare()).concat(this.b.declare());
    for (let k = names.length; k >= 0; k--) {
      const firstAlts: Element[][] = [];
      const afterAlts: Element[][] = [];
      for (let j = k; j < names.length; j++) {
        firstAlts.push([...kv[j]!, { rule: after[j + 1]! }]);
        afterAlts.push([...comma, ...kv[j]!, { rule: after[j + 1]! }]);
        if (required.has(names[j]!)) break;
      }
      if (names.slice(k).every((n) => !required.has(n))) {
        afterAlts.push(extras);
        if (extra) firstAlts.push([...this.pair(extraValue, path), ...extras], []);
        else firstAlts.push([]);
      }
      this.b.define(first[k]!, firstAlts);
      this.b.define(after[k]!, afterAlts);
    }
    return [...literal('{'), ...this.space(), { rule: first[0]! }, ...literal('}')];
  }

  private pair(value: Schema, path: string): Element[] {
    return [...this.string(0, Infinity), ...this.space(), ...literal(':'), ...this.space(), ...this.value(value, `${path}/additionalProperties`), ...this.space()];
  }

  private array(s: Record<string, unknown>, path: string): Element[] {
    if (s.prefixItems !== undefined) throw new UnsupportedError(`${path}: prefixItems is not supported in ${this.where}`);
    const min = count(s.minItems, path, 0);
    const max = count(s.maxItems, path, Infinity);
    const item = [...this.value((s.items ?? true) as Schema, `${path}/items`), ...this.space()];
    const comma = [...literal(','), ...this.space()];
    const body: Element[] = max === 0 ? [] : min === 0
      ? [this.b.optional(...item, ...this.b.repeat([...comma, ...item], 0, max - 1))]
      : [...item, ...this.b.repeat([...comma, ...item], min - 1, max - 1)];
    return [...literal('['), ...this.space(), ...body, ...literal(']')];
  }

  /** A JSON string of min..max characters (escapes count as one; UTF-8 sequences as one). */
  string(min: number, max: number): Element[] {
    if (!this.b.has('char')) {
      const cont = chars([0x80, 0xbf]);
      const hex = chars(['0', '9'], ['a', 'f'], ['A', 'F']);
      this.b.define(this.b.declare('char'), [
        [chars([0x20, 0x21], [0x23, 0x5b], [0x5d, 0x7e])], // printable ASCII but " and \
        [chars('\\'), chars('"', '\\', '/', 'b', 'f', 'n', 'r', 't')],
        [chars('\\'), chars('u'), hex, hex, hex, hex],
        [chars([0xc2, 0xdf]), cont],
        [chars([0xe0, 0xef]), cont, cont],
        [chars([0xf0, 0xf4]), cont, cont, cont],
      ]);
    }
    const char: Element = { rule: this.b.declare('char') };
    const key = `string ${min} ${max}`;
    if (!this.b.has(key)) this.b.define(this.b.declare(key), [[...literal('"'), ...this.b.repeat([char], min, max), ...literal('"')]]);
    return [{ rule: this.b.declare(key) }];
  }

  private integer(): Ref {
    if (!this.b.has('integer')) {
      this.b.define(this.b.declare('integer'), [[this.b.optional(chars('-')), this.b.alt([chars('0')], [chars(['1', '9']), ...this.b.repeat([chars(['0', '9'])], 0, 15)])]]);
    }
    return { rule: this.b.declare('integer') };
  }

  private number(): Ref {
    if (!this.b.has('number')) {
      const digits = (n: number) => this.b.repeat([chars(['0', '9'])], 1, n);
      const fraction = this.b.optional(chars('.'), ...digits(16));
      const exponent = this.b.optional(chars('e', 'E'), this.b.optional(chars('-', '+')), ...digits(3));
      this.b.define(this.b.declare('number'), [[this.integer(), fraction, exponent]]);
    }
    return { rule: this.b.declare('number') };
  }

  anyObject(): number {
    this.anyValue();
    return this.b.declare('object');
  }

  /** Any JSON value (objects with any keys, arrays of anything). */
  private anyValue(): Ref {
    if (!this.b.has('value')) {
      const value = this.b.declare('value');
      const object = this.b.declare('object');
      const array = this.b.declare('array');
      const v: Element = { rule: value };
      const sp = this.space();
      const comma = [...literal(','), ...sp];
      const pair = [...this.string(0, Infinity), ...sp, ...literal(':'), ...sp, v, ...sp];
      this.b.define(value, [[{ rule: object }], [{ rule: array }], this.string(0, Infinity), [this.number()], literal('true'), literal('false'), literal('null')]);
      this.b.define(object, [[...literal('{'), ...sp, this.b.optional(...pair, ...this.b.repeat([...comma, ...pair], 0, Infinity)), ...literal('}')]]);
      this.b.define(array, [[...literal('['), ...sp, this.b.optional(v, ...sp, ...this.b.repeat([...comma, v, ...sp], 0, Infinity)), ...literal(']')]]);
    }
    return { rule: this.b.declare('value') };
  }

  private ref(ref: string): number {
    let rule = this.refs.get(ref);
    if (rule !== undefined) return rule;
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
    const target = m ? (this.root[m[1]!] as Record<string, Schema> | undefined)?.[m[2]!] : ref === '#' ? this.root : undefined;
    if (target === undefined) throw new UnsupportedError(`$ref ${JSON.stringify(ref)}: only references into #/$defs or #/definitions (or # itself) are supported`);
    rule = this.b.declare();
    this.refs.set(ref, rule);
    this.b.define(rule, [this.value(target, ref)]);
    return rule;
  }
}

function inferTypes(s: Record<string, unknown>): string[] {
  if (s.properties !== undefined || s.additionalProperties !== undefined || s.required !== undefined) return ['object'];
  if (s.items !== undefined || s.minItems !== undefined || s.maxItems !== undefined) return ['array'];
  if (s.minLength !== undefined || s.maxLength !== undefined) return ['string'];
  return [];
}

function count(v: unknown, path: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!(Number.isInteger(v) && (v as number) >= 0)) throw new InvalidRequestError(`${path}: length bounds must be integers >= 0, got ${JSON.stringify(v)}`);
  return v as number;
}
