// Chat templates are written for Python's Jinja (transformers) and llama.cpp's Jinja engine; @huggingface/jinja
// is stricter in two ways that break real templates, so the parsed template is adjusted once, before it is
// rendered, to behave as those engines do:
// - A tuple is a list. `{% for a, b in [("x", "X"), ("y", "Y")] %}` (Functionary v3.2) fails in
//   @huggingface/jinja 0.5.x ("Cannot unpack non-iterable type: TupleValue": its for-loop unpacks only lists).
//   Tuple literals in value position are made list literals; loop variables and `set a, b = …` stay tuples.
// - An undefined value is empty, not an error, where Python or llama.cpp (common/jinja/runtime.cpp) treat it so:
//   a tool whose parameters lack `type` or `description` makes Hermes' template index a dict with an undefined
//   key and concatenate an undefined description. So: `for x in <undefined>` loops zero times; the operands of
//   `+` and `~` and of the string, length and items filters default to ''; `d[k]` with an undefined `k` is
//   undefined. Each adjustment only changes what used to raise: on defined values `default` returns them as is.
import { parse, tokenize, type Template } from '@huggingface/jinja';

type Node = { type: string } & Record<string, unknown>;

/** Filters Python's Jinja applies to an undefined value as to '' (its Undefined is an empty string). */
const EMPTY_STRING_FILTERS = new Set(['trim', 'string', 'length', 'count', 'lower', 'upper', 'capitalize', 'title', 'items', 'replace']);

/** Adjusts `template`'s parsed program in place (see above). */
export function pythonCompatible(template: Template): Template {
  visit(template.parsed as unknown as Node);
  return template;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

/** Rewrites the children of `node` (and, through them, the whole tree below it). */
function visit(node: Node): void {
  for (const [key, child] of Object.entries(node)) {
    if (Array.isArray(child)) child.forEach((c, i) => { if (isNode(c)) child[i] = rewrite(c, node, key); });
    else if (child instanceof Map) {
      for (const [k, v] of [...child]) if (isNode(k) && isNode(v)) { visit(k); child.set(k, rewrite(v, node, key)); }
    } else if (isNode(child)) node[key] = rewrite(child, node, key);
  }
}

/** `node` (a child of `parent` under `key`), rewritten. */
function rewrite(node: Node, parent: Node, key: string): Node {
  visit(node);
  const target = (parent.type === 'For' && key === 'loopvar') || (parent.type === 'SetStatement' && key === 'assignee');
  if (node.type === 'TupleLiteral' && !target) node.type = 'ArrayLiteral';
  if (node.type === 'BinaryExpression' && ['+', '~'].includes((node.operator as { value: string }).value)) {
    node.left = orDefault(node.left as Node, "''");
    node.right = orDefault(node.right as Node, "''");
  }
  if (node.type === 'FilterExpression' && EMPTY_STRING_FILTERS.has(filterName(node.filter as Node))) {
    node.operand = orDefault(node.operand as Node, filterName(node.filter as Node) === 'items' ? '{}' : "''");
  }
  if (parent.type === 'For' && key === 'iterable') {
    if (node.type !== 'SelectExpression') return orDefault(node, '[]');
    node.lhs = orDefault(node.lhs as Node, '[]');
  }
  if (node.type === 'MemberExpression' && node.computed && isPure(node.property as Node)) return definedKeyOnly(node);
  return node;
}

function filterName(filter: Node): string {
  const callee = filter.type === 'CallExpression' ? filter.callee as Node : filter;
  return callee.type === 'Identifier' ? callee.value as string : '';
}

/** A variable or an attribute path: evaluating it twice is safe. */
function isPure(node: Node): boolean {
  if (node.type === 'Identifier') return true;
  return node.type === 'MemberExpression' && !node.computed && isPure(node.object as Node);
}

/** An expression of the parser's own making (so the nodes are what the interpreter expects). */
function expression(source: string): Node {
  return (parse(tokenize(`{{ ${source} }}`)).body[0]) as unknown as Node;
}

/** `node|default(<literal>)`. */
function orDefault(node: Node, literal: string): Node {
  if (node.type.endsWith('Literal') && node.type !== 'TupleLiteral') return node;
  const wrapped = expression(`x|default(${literal})`);
  wrapped.operand = node;
  return wrapped;
}

/** `o[k]` as `(o[k] if k is defined else k)`. */
function definedKeyOnly(member: Node): Node {
  const ternary = expression('m if k is defined else k');
  ternary.trueExpr = member;
  (ternary.condition as Node).operand = member.property;
  ternary.falseExpr = member.property;
  return ternary;
}
