#!/usr/bin/env node
// `hearth` / `npx hearth`: the built CLI (dist/lib/node/cli.js, what the package ships). In a checkout that has not
// been built, the TypeScript source through tsx and the shader loader hook, as `npm run cli` does.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/lib/node/cli.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', `${root}scripts/register.mjs`, `${root}src/cli.ts`, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
