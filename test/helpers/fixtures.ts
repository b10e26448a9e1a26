import { resolve } from 'node:path'; import { fileURLToPath } from 'node:url';
const fixturesRoot = fileURLToPath(new URL('../fixtures', import.meta.url));
/** Absolute path inside test/fixtures (real model files and reference outputs, with their licences). */
export function fixturePath(...parts: string[]): string { return resolve(fixturesRoot, ...parts); }
