// npm's pretest (scripts/ensure-webgpu.mjs): on a machine that has everything it says so in one line; where it
// cannot install what is missing (no root and no sudo, or not Debian) it stops at once with one message naming
// the packages, and where it can, it says in one line what it installs and why, then runs setup-webgpu.sh.
// The script runs for real; what it finds missing comes from the overrides it honours (MESA_MIN_VERSION,
// CHROMIUM_PATH) and from a PATH that lacks sudo, apt or dpkg, since this machine has everything installed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(repoRoot, 'scripts', 'ensure-webgpu.mjs');
const NOBODY = 65534;

/** An executable's path on this process's PATH, or null. */
function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return null;
}

const setpriv = which('setpriv');
const isRoot = process.getuid?.() === 0;
const debian = /^ID=["']?debian/m.test(existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '')
  && which('dpkg-query') !== null && which('apt-get') !== null;
const unprivileged = !isRoot || setpriv !== null;

let dir: string | undefined;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-ensure-webgpu-'));
  chmodSync(dir, 0o777); // the unprivileged runs below read and write here
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

/** A folder for PATH holding links to the named real commands (and `extra` scripts), nothing else. */
function binDir(name: string, commands: string[], extra: Record<string, string> = {}): string {
  const path = join(dir!, name);
  mkdirSync(path, { mode: 0o755 });
  for (const c of commands) symlinkSync(which(c)!, join(path, c));
  for (const [file, text] of Object.entries(extra)) { writeFileSync(join(path, file), text); chmodSync(join(path, file), 0o755); }
  return path;
}

/** Runs the pretest script with exactly `env`; as an unprivileged user when `unprivilegedUser` (setpriv if root). */
function ensure(env: Record<string, string>, unprivilegedUser = false) {
  const argv = [process.execPath, SCRIPT];
  if (unprivilegedUser && isRoot) argv.unshift(setpriv!, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--');
  // The bound only keeps a hanging script from hanging the suite; the script itself must not prompt or wait.
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8', cwd: repoRoot, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.error, undefined, `the script did not finish: ${String(r.error)}`);
  const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');
  return { status: r.status, stdout: lines(r.stdout), stderr: lines(r.stderr) };
}

test('everything present: exit 0 and at most one line', () => {
  const r = ensure({ ...process.env } as Record<string, string>);
  assert.equal(r.status, 0, r.stderr.join('\n'));
  assert.ok(r.stdout.length <= 1, r.stdout.join('\n'));
  assert.deepEqual(r.stderr, []);
});

test('Debian, neither root nor sudo: stops at once with one message naming the packages, installs nothing', { skip: !debian ? 'needs Debian' : !unprivileged && 'needs setpriv to drop root' }, () => {
  const path = binDir('no-sudo', ['dpkg-query', 'apt-get']);
  const r = ensure({ PATH: path, MESA_MIN_VERSION: '99', CHROMIUM_PATH: '/nonexistent/chromium' }, true);
  assert.equal(r.status, 1);
  assert.deepEqual(r.stdout, [], 'nothing announced as being installed');
  assert.equal(r.stderr.length, 1, r.stderr.join('\n'));
  const [message] = r.stderr;
  for (const part of ['mesa-vulkan-drivers >= 99', 'libvulkan1', 'chromium', '/nonexistent/chromium', 'not root', 'sudo', 'scripts/setup-webgpu.sh']) {
    assert.ok(message!.includes(part), `"${part}" in: ${message}`);
  }
});

test('not Debian (no apt, no dpkg), even as root: stops at once naming what to install', () => {
  const path = binDir('no-apt', []);
  const r = ensure({ PATH: path, CHROMIUM_PATH: '/nonexistent/chromium' });
  assert.equal(r.status, 1);
  assert.deepEqual(r.stdout, []);
  assert.equal(r.stderr.length, 1, r.stderr.join('\n'));
  assert.match(r.stderr[0]!, /not Debian/);
  assert.match(r.stderr[0]!, /Install chromium/);
});

test('password-less sudo: one line says what it installs and why, then `sudo -n` runs setup-webgpu.sh', { skip: !debian ? 'needs Debian' : !unprivileged && 'needs setpriv to drop root' }, () => {
  // A stand-in for sudo (this machine has none): records its arguments and succeeds without doing anything,
  // so the script's check afterwards still finds Mesa too old and must say so.
  const log = join(dir!, 'sudo.log');
  const path = binDir('fake-sudo', ['dpkg-query', 'apt-get'], { sudo: `#!/bin/sh\necho "$*" >> '${log}'\nexit 0\n` });
  const r = ensure({ PATH: path, MESA_MIN_VERSION: '99' }, true);
  assert.equal(r.stdout.length, 1, r.stdout.join('\n'));
  assert.match(r.stdout[0]!, /installing mesa-vulkan-drivers >= 99 (\(from \S+\) )?and libvulkan1 with scripts\/setup-webgpu\.sh through sudo: the tests run WebGPU on the CPU/);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['-n true', `-n env MESA_MIN_VERSION=99 bash ${SCRIPT.replace('ensure-webgpu.mjs', 'setup-webgpu.sh')}`]);
  assert.equal(r.status, 1, 'what the installer left missing is an error');
  assert.match(r.stderr.join('\n'), /Still missing: Mesa lavapipe/);
});
