// The aligned layouts (AdapterProfile.alignedWeights): a file's Q4_0, Q8_0 and Q6_K blocks — an f16 scale d and
// 16, 32 or 208 other bytes, 18, 34 and 210 bytes long — start at any even byte, so a kernel reads their words
// unaligned (two loads and shifts each). Repacked at load into groups of ALIGNED_GROUP blocks, the group's scales
// in one 16-byte word and then each block's other bytes as the file holds them, every read is an aligned word
// (shaders/dtype/aligned-common.wgsl; Q4_0's and Q8_0's quants whole vec4s). A group has exactly its blocks' bytes,
// so a binding offset that is a multiple of 256 on a block boundary (128 · k blocks, for 18-, 34- and 210-byte
// blocks) starts a group; only a matrix's last group may be partial, and its buffer holds it whole
// (alignedBufferBytes).
import type { AlignedDType, WeightDType } from './shaders';
import { weightLayouts } from './quant-types';

/** Blocks per group of an aligned layout. */
export const ALIGNED_GROUP = 8;
/** Bytes of a block's scale (an f16), which a group gathers in its first word. */
const SCALE_BYTES = 2;

/** The aligned layout of each file type that has one. */
const alignedLayoutOf: Readonly<Partial<Record<WeightDType, AlignedDType>>> = { q4_0: 'q4_0_aligned', q8_0: 'q8_0_aligned', q6_k: 'q6_k_aligned' };
/** Where a file block holds its scale d: first in Q4_0 and Q8_0, last in Q6_K (ggml's block structs). */
const SCALE_AT: Readonly<Record<AlignedDType, number>> = { q4_0_aligned: 0, q8_0_aligned: 0, q6_k_aligned: 208 };

export function isAligned(dtype: WeightDType): dtype is AlignedDType {
  return weightLayouts[dtype].repackOf !== undefined;
}

/** The type a matrix of file type `dtype` has on the GPU: its aligned layout where `aligned` and it has one. */
export function gpuWeightDType(dtype: WeightDType, aligned: boolean): WeightDType {
  return (aligned && alignedLayoutOf[dtype]) || dtype;
}

/** The bytes a buffer holds of `byteLength` bytes of `dtype`: whole groups for an aligned layout. */
export function alignedBufferBytes(dtype: WeightDType, byteLength: number): number {
  if (!isAligned(dtype)) return byteLength;
  const group = ALIGNED_GROUP * weightLayouts[dtype].blockBytes;
  return Math.ceil(byteLength / group) * group;
}

/**
 * Repacks a stream of a file's blocks (chunks of any length, in order) into `dtype`'s aligned layout: push returns
 * the groups each chunk completes, finish the last one, zero-padded to a whole group.
 */
export class AlignedRepacker {
  private readonly blockBytes: number;
  private readonly scaleAt: number;
  private readonly groupBytes: number;
  private readonly pending: Uint8Array;
  private pendingBytes = 0;

  constructor(dtype: AlignedDType) {
    this.blockBytes = weightLayouts[dtype].blockBytes;
    this.scaleAt = SCALE_AT[dtype];
    this.groupBytes = ALIGNED_GROUP * this.blockBytes;
    this.pending = new Uint8Array(this.groupBytes);
  }

  /** The whole groups `chunk` completes, repacked (empty when it completes none). */
  push(chunk: Uint8Array): Uint8Array {
    const total = this.pendingBytes + chunk.byteLength;
    const out = new Uint8Array(total - (total % this.groupBytes));
    const [input, output] = [viewOf(chunk), viewOf(out)];
    let read = 0;
    for (let at = 0; at < out.byteLength; at += this.groupBytes) {
      if (this.pendingBytes > 0) { // the group begun by earlier chunks
        read = this.groupBytes - this.pendingBytes;
        this.pending.set(chunk.subarray(0, read), this.pendingBytes);
        this.pendingBytes = 0;
        this.repackGroup(viewOf(this.pending), 0, output, at);
      } else {
        this.repackGroup(input, read, output, at);
        read += this.groupBytes;
      }
    }
    this.pending.set(chunk.subarray(read), this.pendingBytes);
    this.pendingBytes += chunk.byteLength - read;
    return out;
  }

  /** The last, partial group (its missing blocks zero), or nothing when the blocks filled whole groups. */
  finish(): Uint8Array {
    if (this.pendingBytes === 0) return new Uint8Array(0);
    if (this.pendingBytes % this.blockBytes !== 0) throw new RangeError(`aligned repack: ${this.pendingBytes} bytes left over, not whole ${this.blockBytes}-byte blocks`);
    this.pending.fill(0, this.pendingBytes);
    this.pendingBytes = 0;
    const out = new Uint8Array(this.groupBytes);
    this.repackGroup(viewOf(this.pending), 0, viewOf(out), 0);
    return out;
  }

  /**
   * The group of blocks at src[from …] into out[to …], a word at a time (a block's bytes before and after its scale
   * are runs of whole words).
   */
  private repackGroup(input: DataView, from: number, output: DataView, to: number): void {
    const { blockBytes, scaleAt } = this;
    let o = to + 16; // after the scales, each block's bytes before its scale, then those after it
    for (let k = 0; k < ALIGNED_GROUP; k++) {
      const block = from + k * blockBytes;
      const scale = block + scaleAt;
      output.setUint16(to + SCALE_BYTES * k, input.getUint16(scale, true), true);
      for (let i = block; i < scale; i += 4, o += 4) output.setUint32(o, input.getUint32(i, true), true);
      for (let i = scale + SCALE_BYTES; i < block + blockBytes; i += 4, o += 4) output.setUint32(o, input.getUint32(i, true), true);
    }
  }
}

const viewOf = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A whole matrix's blocks in `dtype`'s aligned layout (alignedBufferBytes of them). */
export function repackAligned(dtype: AlignedDType, bytes: Uint8Array): Uint8Array {
  const repacker = new AlignedRepacker(dtype);
  const groups = repacker.push(bytes);
  const last = repacker.finish();
  if (last.byteLength === 0) return groups;
  const out = new Uint8Array(groups.byteLength + last.byteLength);
  out.set(groups);
  out.set(last, groups.byteLength);
  return out;
}
