#!/usr/bin/env node
// ensure-webgpu.mjs - npm's `pretest`: makes sure this machine can run the tests' WebGPU on the CPU before
// a single test starts, so a fresh clone gets one clear step (or one clear message) instead of 80 failures.
//
// Needs: a Chromium for the browser tests (CHROMIUM_PATH, default /usr/bin/chromium; Debian's ships
// SwiftShader) and, on Linux, Mesa lavapipe + the Vulkan loader for Node's `webgpu` (Dawn): on Debian the
// packages mesa-vulkan-drivers >= MESA_MIN_VERSION (default 24.0; bookworm's own 22.3 is too old for Dawn,
// bookworm-backports has 25.x) and libvulkan1. macOS and Windows give Dawn Metal or D3D12: no lavapipe there.
//
// The check reads only the file system and dpkg's database (no network, one dpkg-query): well under a second.
// Where something is missing it runs scripts/setup-webgpu.sh as root, or through `sudo -n` (never prompts);
// with neither, or off Debian, it stops at once with one message naming what to install.
// Exit: 0 ready; 1 missing and not installable here (or the installation failed).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SETUP = fileURLToPath(new URL('./setup-webgpu.sh', import.meta.url));
const TAG = '[hearth pretest]';
const MESA_MIN = process.env.MESA_MIN_VERSION || '24.0';

/** Runs a command quietly; null when it is not on PATH. */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return r.error ? null : r;
}

function isExecutable(path) {
  try { accessSync(path, constants.X_OK); return true; } catch { return false; }
}

/** The Debian upstream version's numeric parts, epoch and revision dropped: "1:25.0.7-2~bpo12+1" -> [25, 0, 7]. */
function upstreamParts(version) {
  const upstream = version.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
  return (upstream.match(/\d+/g) ?? []).map(Number);
}

function versionAtLeast(version, min) {
  const [a, b] = [upstreamParts(version), upstreamParts(min)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

/** ID and ID_LIKE of /etc/os-release, lower case; empty where there is none. */
function osIds() {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const field = (k) => (new RegExp(`^${k}=["']?([^"'\\n]*)`, 'm').exec(text)?.[1] ?? '').toLowerCase();
    return { id: field('ID'), like: field('ID_LIKE'), codename: field('VERSION_CODENAME') };
  } catch {
    return { id: '', like: '', codename: '' };
  }
}

/** Installed packages -> version, from one dpkg-query; null where dpkg is absent (not a Debian system). */
function dpkgVersions(packages) {
  const r = run('dpkg-query', ['-W', '-f=${Package}|${db:Status-Abbrev}|${Version}\n', ...packages]);
  if (!r) return null;
  const versions = new Map();
  for (const line of r.stdout.split('\n')) {
    const [name, status, version] = line.split('|');
    if (name && status?.startsWith('ii')) versions.set(name, version);
  }
  return versions;
}

/** Lavapipe's ICD file and the Vulkan loader, where no package database says (non-Debian Linux). */
function lavapipeFiles() {
  const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const icd = icdDirs.some((d) => existsSync(d) && readdirSync(d).some((f) => /^lvp_icd.*\.json$/.test(f)));
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64', '/lib'];
  const loader = libDirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
  return icd && loader;
}

/**
 * What the tests lack here: a list of { what, install } (the package to install, why, what was found).
 * `debian()`: whether scripts/setup-webgpu.sh can install it (Debian with apt-get and dpkg).
 */
function probe() {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  const missing = [];
  if (!isExecutable(chromium)) {
    missing.push({
      what: `Chromium (no executable at ${chromium}${process.env.CHROMIUM_PATH ? ', from CHROMIUM_PATH' : ''})`,
      install: 'chromium',
    });
  }
  const ids = osIds();
  const versions = process.platform === 'linux' ? dpkgVersions(['mesa-vulkan-drivers', 'libvulkan1']) : null;
  if (process.platform === 'linux') {
    const backports = ids.codename === 'bookworm' ? ' (from bookworm-backports)' : '';
    const install = `mesa-vulkan-drivers >= ${MESA_MIN}${backports} and libvulkan1`;
    if (versions) {
      const mesa = versions.get('mesa-vulkan-drivers');
      if (!mesa || !versionAtLeast(mesa, MESA_MIN)) {
        missing.push({ what: `Mesa lavapipe for Node's WebGPU (mesa-vulkan-drivers ${mesa ?? 'not installed'}, Dawn needs >= ${MESA_MIN})`, install });
      } else if (!versions.has('libvulkan1')) {
        missing.push({ what: 'the Vulkan loader for Node\'s WebGPU (libvulkan1 not installed)', install });
      }
    } else if (!lavapipeFiles()) {
      missing.push({ what: 'Mesa lavapipe for Node\'s WebGPU (no lvp_icd*.json or no libvulkan.so.1)', install: `Mesa's Vulkan drivers >= ${MESA_MIN} (lavapipe) and the Vulkan loader` });
    }
  }
  // Only Debian's apt can do what setup-webgpu.sh does (Ubuntu's chromium, for one, is a snap).
  const debian = () => versions !== null && ids.id === 'debian' && run('apt-get', ['--version']) !== null;
  return { chromium, missing, debian };
}

const names = (missing) => [...new Set(missing.map((m) => m.install))].join(', ');

function cannotInstall(missing, why) {
  const orChrome = missing.some((m) => m.install === 'chromium') ? ' (or point CHROMIUM_PATH at any Chromium or Chrome)' : '';
  console.error(`${TAG} npm test runs WebGPU on the CPU and this machine lacks ${missing.map((m) => m.what).join(' and ')}. `
    + `${why} Install ${names(missing)}${orChrome}; on Debian, \`sudo bash scripts/setup-webgpu.sh\` does it. Then run npm test again.`);
  process.exit(1);
}

/** How scripts/setup-webgpu.sh can run here, as argv; null where it cannot (neither root nor password-less sudo). */
function installer() {
  const env = process.env.MESA_MIN_VERSION ? ['env', `MESA_MIN_VERSION=${process.env.MESA_MIN_VERSION}`] : [];
  if (process.getuid?.() === 0) return { argv: [...env, 'bash', SETUP], as: 'as root' };
  const sudo = run('sudo', ['-n', 'true']);
  if (sudo?.status === 0) return { argv: ['sudo', '-n', ...env, 'bash', SETUP], as: 'through sudo' };
  return null;
}

function main() {
  const first = probe();
  if (first.missing.length === 0) {
    console.log(`${TAG} WebGPU test set-up present (Chromium at ${first.chromium}${process.platform === 'linux' ? ', Mesa lavapipe' : ''})`);
    return;
  }
  if (!first.debian()) cannotInstall(first.missing, 'This is not Debian, so scripts/setup-webgpu.sh cannot install them.');
  const how = installer();
  if (!how) cannotInstall(first.missing, 'Installing them needs root, and this user is not root and has no password-less sudo.');
  console.log(`${TAG} installing ${names(first.missing)} with scripts/setup-webgpu.sh ${how.as}: the tests run WebGPU on the CPU (headless Chromium on SwiftShader, Node's Dawn on Mesa lavapipe)`);
  const [cmd, ...args] = how.argv;
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  const after = probe();
  if (r.status !== 0 || after.missing.length > 0) {
    const still = after.missing.length ? ` Still missing: ${after.missing.map((m) => m.what).join(' and ')}.` : '';
    const ran = r.error ? `did not start (${r.error.message})` : r.status === 0 ? 'ran' : `exited with ${r.status ?? r.signal}`;
    console.error(`${TAG} scripts/setup-webgpu.sh ${ran}.${still} Install ${names(after.missing.length ? after.missing : first.missing)} by hand, then run npm test again.`);
    process.exit(1);
  }
}

main();
