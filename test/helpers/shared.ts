import { resolve } from 'node:path'; import { fileURLToPath } from 'node:url';
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Absolute path inside the shared fixtures folder (env HEARTH_SHARED, default ../shared from the repo root). */
export function sharedPath(...parts: string[]): string { return resolve(repoRoot, process.env.HEARTH_SHARED ?? '../shared', ...parts); }
