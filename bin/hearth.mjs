#!/usr/bin/env node
// Runs the TypeScript CLI through tsx and the shader loader hook.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const r = spawnSync(process.execPath, ['--import', `${root}scripts/register.mjs`, `${root}src/cli.ts`, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
