// Lists every function in src/ longer than the house limit, measured with TypeScript's own parser: the lines from
// a function's first line (its name, or `=>` head) to its closing brace, blank and comment lines included —
// arrow functions, methods, getters and constructors count too; an object literal or class does not, only its
// members. Exits 1 when any function is over the limit. `--all` prints the longest twenty whatever their length.
//   node scripts/function-lengths.mjs [--limit 80] [--all] [dir…]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
const limitAt = args.indexOf('--limit');
const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : 80;
const showAll = args.includes('--all');
const dirs = args.filter((a, i) => !a.startsWith('--') && i !== limitAt + 1);
if (dirs.length === 0) dirs.push('src');

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

const isFunction = (n) => ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n)
  || ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n);

function nameOf(node, source) {
  if (node.name) return node.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))) return parent.name.getText(source);
  return '(anonymous)';
}

const found = [];
for (const dir of dirs) {
  for (const file of sourceFiles(dir)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node) => {
      if (isFunction(node) && node.body) {
        const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const last = source.getLineAndCharacterOfPosition(node.end).line;
        found.push({ where: `${file}:${first + 1}`, name: nameOf(node, source), lines: last - first + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}

found.sort((a, b) => b.lines - a.lines);
const over = found.filter((f) => f.lines > limit);
for (const f of showAll ? found.slice(0, 20) : over) console.log(`${String(f.lines).padStart(4)} lines  ${f.name}  ${f.where}`);
if (over.length > 0) {
  console.error(`${over.length} function(s) in ${dirs.join(', ')} longer than ${limit} lines: split them (each piece a named step).`);
  process.exitCode = 1;
} else if (!showAll) {
  console.log(`function lengths: all ${found.length} functions in ${dirs.join(', ')} within ${limit} lines`);
}
