// A small JSON Schema validator for the keywords Hearth's JSON mode supports, written from the specification
// independently of src/engine/json (which builds grammars, not validators), plus a generator of random
// instances. Returns a list of problems, empty when `value` is valid. Environment-agnostic.
import type { Rng } from './seeded';

type Schema = Record<string, unknown> | boolean;

export function schemaProblems(value: unknown, schema: Schema, root: Record<string, unknown> = schema as Record<string, unknown>, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value allowed`];
  const s = schema;
  if (typeof s.$ref === 'string') return schemaProblems(value, resolve(root, s.$ref), root, path);
  if ('const' in s) return equal(value, s.const) ? [] : [`${path}: expected const ${JSON.stringify(s.const)}`];
  if (Array.isArray(s.enum)) return s.enum.some((e) => equal(value, e)) ? [] : [`${path}: ${JSON.stringify(value)} not in enum`];
  const variants = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (variants) return variants.some((v) => schemaProblems(value, v, root, path).length === 0) ? [] : [`${path}: matches none of anyOf/oneOf`];
  if (Array.isArray(s.allOf)) return s.allOf.flatMap((v) => schemaProblems(value, v as Schema, root, path));
  const types = s.type === undefined ? undefined : Array.isArray(s.type) ? s.type as string[] : [s.type as string];
  if (types && !types.some((t) => typeOk(value, t)) && !(s.nullable === true && value === null)) return [`${path}: ${JSON.stringify(value)} is not of type ${types.join('|')}`];
  const out: string[] = [];
  if (typeof value === 'string') {
    const n = [...value].length;
    if (typeof s.minLength === 'number' && n < s.minLength) out.push(`${path}: shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && n > s.maxLength) out.push(`${path}: longer than ${s.maxLength}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) out.push(`${path}: fewer than ${s.minItems} items`);
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) out.push(`${path}: more than ${s.maxItems} items`);
    if (s.items !== undefined) value.forEach((v, i) => out.push(...schemaProblems(v, s.items as Schema, root, `${path}[${i}]`)));
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in value)) out.push(`${path}: missing required ${r}`);
    for (const [k, v] of Object.entries(value)) {
      if (k in props) out.push(...schemaProblems(v, props[k]!, root, `${path}.${k}`));
      else if (s.additionalProperties === false) out.push(`${path}: unexpected property ${k}`);
      else if (typeof s.additionalProperties === 'object') out.push(...schemaProblems(v, s.additionalProperties as Schema, root, `${path}.${k}`));
    }
  }
  return out;
}

function typeOk(v: unknown, t: string): boolean {
  switch (t) {
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    default: return false;
  }
}

function resolve(root: Record<string, unknown>, ref: string): Schema {
  if (ref === '#') return root;
  const [, section, name] = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref)!;
  return (root[section!] as Record<string, Schema>)[name!]!;
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A random instance of `schema` (objects include each optional property half the time). */
export function randomInstance(schema: Schema, rng: Rng, root: Record<string, unknown> = schema as Record<string, unknown>, depth = 0): unknown {
  if (schema === true) return randomAny(rng, depth);
  const s = schema as Record<string, unknown>;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)]!;
  if (typeof s.$ref === 'string') return randomInstance(resolve(root, s.$ref), rng, root, depth + 1);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return pick(s.enum);
  const variants = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (variants) return randomInstance(pick(depth > 3 ? variants.slice(0, 1) : variants), rng, root, depth + 1);
  const type = Array.isArray(s.type) ? pick(s.type as string[]) : (s.type as string | undefined) ?? 'object';
  const text = (min: number, max: number) => Array.from({ length: min + Math.floor(rng() * (Math.min(max, min + 8) - min + 1)) }, () => pick([...'abc xyz"\\é€😀\n'])).join('');
  switch (type) {
    case 'string': return text((s.minLength as number) ?? 0, (s.maxLength as number) ?? 12);
    case 'integer': return Math.floor((rng() - 0.5) * 2000);
    case 'number': return Math.round((rng() - 0.5) * 1e6) / 1000;
    case 'boolean': return rng() < 0.5;
    case 'null': return null;
    case 'array': {
      const min = (s.minItems as number) ?? 0;
      const max = depth > 5 ? min : Math.min((s.maxItems as number) ?? 4, min + 4);
      return Array.from({ length: min + Math.floor(rng() * (max - min + 1)) }, () => randomInstance((s.items ?? true) as Schema, rng, root, depth + 1));
    }
    default: {
      const out: Record<string, unknown> = {};
      const required = new Set((s.required ?? []) as string[]);
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
        if (required.has(k) || rng() < 0.5) out[k] = randomInstance(v, rng, root, depth + 1);
      }
      return out;
    }
  }
}

function randomAny(rng: Rng, depth: number): unknown {
  const r = rng();
  if (depth > 2 || r < 0.4) return [null, true, 1.5, -3, 'hi "there"'][Math.floor(rng() * 5)];
  if (r < 0.7) return Array.from({ length: Math.floor(rng() * 3) }, () => randomAny(rng, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rng() * 3) }, (_, i) => [`k${i}`, randomAny(rng, depth + 1)]));
}
