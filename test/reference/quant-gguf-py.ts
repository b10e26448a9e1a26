// gguf-py as an independent oracle for dequantization: llama.cpp's own Python package, whose numpy
// dequantizers are bit-identical to ggml's C code. Its source comes from the llama.cpp git bundle that
// the node-llama-cpp devDependency ships (pinned version), extracted to a temp dir; no network needed.
// Node-only (child_process): used by test/quant.test.ts, never bundled for the browser.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../../node_modules/node-llama-cpp/llama/gitRelease.bundle', import.meta.url));

// Reads GGUF files with gguf-py's GGUFReader and writes, for each tensor: u32 key length, key
// ("<file index>/<tensor name>"), u64 element count, the dequantized values as little-endian f32.
const script = `
import sys
import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
out = sys.stdout.buffer
for index, path in enumerate(sys.argv[1:]):
    for t in GGUFReader(path).tensors:
        values = np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype='<f4').reshape(-1)
        key = f'{index}/{t.name}'.encode()
        out.write(len(key).to_bytes(4, 'little') + key + values.size.to_bytes(8, 'little'))
        out.write(values.tobytes())
`;

export interface GgufPy {
  /** Dequantizes every tensor of the files; keys are `<index in paths>/<tensor name>`. */
  dequantizeFiles(paths: string[]): Map<string, Float32Array>;
  /** gguf-py's quantizer (gguf.quants.quantize) on one row of f32 values: the block bytes. */
  quantize(values: Float32Array, type: 'Q8_0' | 'Q4_0'): Uint8Array;
  /** Removes the extracted gguf-py. */
  dispose(): void;
}

/** Why gguf-py cannot run here (missing bundle, python3 or numpy), or undefined if it can. */
export function ggufPyUnavailable(): string | undefined {
  if (!existsSync(bundle)) return `the llama.cpp source bundle is missing (${bundle}); run npm ci (node-llama-cpp is a devDependency)`;
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'pipe' });
  } catch {
    return 'python3 with numpy is needed to run gguf-py (Debian: apt-get install python3-numpy)';
  }
  return undefined;
}

/** Extracts gguf-py from the bundle (about a second) into a temp dir. */
export function openGgufPy(): GgufPy {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-gguf-py-'));
  try {
    execFileSync('git', ['clone', '--quiet', '--bare', bundle, join(dir, 'llama.cpp.git')], { stdio: 'pipe' });
    execFileSync('git', ['--git-dir', join(dir, 'llama.cpp.git'), 'archive', '--output', join(dir, 'gguf-py.tar'), 'HEAD', 'gguf-py/gguf'], { stdio: 'pipe' });
    execFileSync('tar', ['-xf', join(dir, 'gguf-py.tar'), '-C', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const env = { ...process.env, PYTHONPATH: join(dir, 'gguf-py'), PYTHONDONTWRITEBYTECODE: '1' };
  return {
    dequantizeFiles(paths) {
      const bytes = execFileSync('python3', ['-c', script, ...paths], { env, maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const tensors = new Map<string, Float32Array>();
      for (let o = 0; o < bytes.byteLength;) {
        const keyLength = view.getUint32(o, true);
        const key = bytes.subarray(o + 4, o + 4 + keyLength).toString('utf8');
        const count = Number(view.getBigUint64(o + 4 + keyLength, true));
        o += 12 + keyLength;
        // Copy: the values are not 4-byte aligned inside the output.
        tensors.set(key, new Float32Array(new Uint8Array(bytes.subarray(o, o + 4 * count)).buffer));
        o += 4 * count;
      }
      return tensors;
    },
    quantize(values, type) {
      const quantizeScript = 'import sys, numpy as np\nfrom gguf.quants import quantize\nfrom gguf.constants import GGMLQuantizationType as T\n'
        + 'x = np.frombuffer(sys.stdin.buffer.read(), dtype="<f4").reshape(1, -1)\nsys.stdout.buffer.write(quantize(x, T[sys.argv[1]]).tobytes())';
      const out = execFileSync('python3', ['-c', quantizeScript, type], { env, input: new Uint8Array(values.buffer, values.byteOffset, values.byteLength), maxBuffer: 1 << 30 });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
