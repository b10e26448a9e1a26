// The Llama forward pass on the GPU, one token at a time.
//
// Everything that costs anything — buffers, pipelines, bind groups — is made in `LlamaModel.create`.
// A decode step only writes the token and its position, records one command encoder, submits it once
// and reads back one u32 (or the logits, for sampling and tests).
import type { BufferPool } from '../gpu/buffers';
import { KernelCache, workgroups } from '../gpu/kernels';
import type { KernelName, WeightDType } from '../gpu/shaders';
import type { LlamaConfig } from './config';
import type { LlamaWeights, Matrix } from './llama-weights';

/** A pipeline, its bind group and its grid: one prebuilt dispatch. */
interface Dispatch { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; x: number }

/** What a step reads back to the CPU. */
export type StepOutput = 'none' | 'token' | 'logits';

interface LayerDispatches {
  attnNorm: Dispatch; q: Dispatch; k: Dispatch; v: Dispatch; ropeQ: Dispatch; ropeK: Dispatch;
  attention: Dispatch; o: Dispatch; attnResidual: Dispatch;
  ffnNorm: Dispatch; gate: Dispatch; up: Dispatch; swiglu: Dispatch; down: Dispatch; ffnResidual: Dispatch;
  kCache: GPUBuffer; vCache: GPUBuffer;
}

export class LlamaModel {
  private constructor(
    private readonly device: GPUDevice,
    readonly config: LlamaConfig,
    /** Positions the KV cache holds. */
    readonly contextLength: number,
    private readonly buf: ActivationBuffers,
    private readonly embedding: Dispatch,
    private readonly layers: LayerDispatches[],
    private readonly outputNorm: Dispatch,
    private readonly logits: Dispatch,
    private readonly argmax: Dispatch,
  ) {}

  static async create(device: GPUDevice, config: LlamaConfig, weights: LlamaWeights, pool: BufferPool, contextLength: number): Promise<LlamaModel> {
    const { embeddingLength: dim, feedForwardLength: ffn, headCount, headCountKv, headDim, ropeDim, vocabSize } = config;
    const qDim = headCount * headDim;
    const kvDim = headCountKv * headDim;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const f32 = (label: string, n: number) => pool.create(label, 4 * n, storage);

    const buf: ActivationBuffers = {
      step: pool.create('step', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST), // { pos: u32 }
      token: pool.create('token', 16, storage), // [1] u32: input token, then argmax output
      x: f32('x', dim), // residual stream [dim]
      xb: f32('xb', dim), // normed input of a sub-block [dim]
      xb2: f32('xb2', dim), // sub-block output before the residual add [dim]
      q: f32('q', qDim), // [nHeads, headDim]
      k: f32('k', kvDim), // [nKvHeads, headDim], copied into the cache at pos
      v: f32('v', kvDim),
      att: f32('att', qDim), // attention output [nHeads, headDim]
      scores: f32('scores', headCount * contextLength), // [nHeads, ctx] softmax scratch
      hb: f32('hb', ffn), // gate, then silu(gate)*up [ffn]
      hb2: f32('hb2', ffn), // up [ffn]
      logits: f32('logits', vocabSize), // [vocab]
      ropeTable: pool.createWith('rope cos/sin', ropeTable(contextLength, ropeDim, config.ropeFreqBase)),
      tokenReadback: pool.create('token readback', 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      logitsReadback: pool.create('logits readback', 4 * vocabSize, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
    };

    // Pipelines, specialised once per distinct shape and weight type.
    const kernels = new KernelCache(device);
    const pipeline = (name: KernelName, constants: Record<string, number>, dtype?: WeightDType) => kernels.get(name, { dtype, constants });
    const dispatch = async (label: string, p: Promise<GPUComputePipeline>, x: number, ...resources: GPUBuffer[]): Promise<Dispatch> => {
      const pl = await p;
      const bindGroup = device.createBindGroup({
        label,
        layout: pl.getBindGroupLayout(0),
        entries: resources.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      return { pipeline: pl, bindGroup, x };
    };
    const matvec = (label: string, m: Matrix, input: GPUBuffer, out: GPUBuffer) =>
      dispatch(label, pipeline('matvec', { ROWS: m.rows, COLS: m.cols }, m.dtype), workgroups(m.rows), m.buffer, input, out);
    const rmsnorm = (label: string, weight: GPUBuffer) =>
      dispatch(label, pipeline('rmsnorm', { N: dim, EPS: config.rmsNormEps }), 1, buf.x, weight, buf.xb);
    const add = (label: string) => dispatch(label, pipeline('add', { N: dim }), workgroups(dim), buf.x, buf.xb2);
    const neox = config.ropeStyle === 'neox' ? 1 : 0;
    const rope = (label: string, x: GPUBuffer, heads: number) =>
      dispatch(label, pipeline('rope', { N_HEADS: heads, HEAD_DIM: headDim, ROT_DIM: ropeDim, NEOX: neox }), workgroups((heads * ropeDim) / 2), buf.step, x, buf.ropeTable);

    const layers: LayerDispatches[] = [];
    for (const [l, w] of weights.layers.entries()) {
      const kCache = f32(`k cache ${l}`, contextLength * kvDim); // [ctx, nKvHeads, headDim]
      const vCache = f32(`v cache ${l}`, contextLength * kvDim);
      const attentionPipeline = pipeline('attention', { N_HEADS: headCount, N_KV_HEADS: headCountKv, HEAD_DIM: headDim, CTX: contextLength });
      layers.push({
        attnNorm: await rmsnorm(`${l}.attn_norm`, w.attnNorm),
        q: await matvec(`${l}.q`, w.wq, buf.xb, buf.q),
        k: await matvec(`${l}.k`, w.wk, buf.xb, buf.k),
        v: await matvec(`${l}.v`, w.wv, buf.xb, buf.v),
        ropeQ: await rope(`${l}.rope_q`, buf.q, headCount),
        ropeK: await rope(`${l}.rope_k`, buf.k, headCountKv),
        attention: await dispatch(`${l}.attention`, attentionPipeline, headCount, buf.step, buf.q, kCache, vCache, buf.scores, buf.att),
        o: await matvec(`${l}.o`, w.wo, buf.att, buf.xb2),
        attnResidual: await add(`${l}.attn_residual`),
        ffnNorm: await rmsnorm(`${l}.ffn_norm`, w.ffnNorm),
        gate: await matvec(`${l}.gate`, w.gate, buf.xb, buf.hb),
        up: await matvec(`${l}.up`, w.up, buf.xb, buf.hb2),
        swiglu: await dispatch(`${l}.swiglu`, pipeline('swiglu', { N: ffn }), workgroups(ffn), buf.hb, buf.hb2),
        down: await matvec(`${l}.down`, w.down, buf.hb, buf.xb2),
        ffnResidual: await add(`${l}.ffn_residual`),
        kCache,
        vCache,
      });
    }
    const e = weights.tokenEmbedding;
    const embedding = await dispatch('embedding', pipeline('embedding', { DIM: dim }, e.dtype), workgroups(dim), buf.token, e.buffer, buf.x);
    const outputNorm = await rmsnorm('output_norm', weights.outputNorm);
    const logits = await matvec('output', weights.output, buf.xb, buf.logits);
    const argmax = await dispatch('argmax', pipeline('argmax', { N: vocabSize }), 1, buf.logits, buf.token);
    return new LlamaModel(device, config, contextLength, buf, embedding, layers, outputNorm, logits, argmax);
  }

  /**
   * Runs the model on `token` at position `pos` (one encoder, one submit).
   * 'none' skips the output head (prompt tokens whose prediction is not needed) and returns at once;
   * 'token' returns the argmax id; 'logits' returns all vocab logits.
   */
  step(token: number, pos: number, output: 'none'): Promise<void>;
  step(token: number, pos: number, output: 'token'): Promise<number>;
  step(token: number, pos: number, output: 'logits'): Promise<Float32Array>;
  async step(token: number, pos: number, output: StepOutput): Promise<void | number | Float32Array> {
    const { device, buf, config } = this;
    const kvBytes = 4 * config.headCountKv * config.headDim;
    device.queue.writeBuffer(buf.token, 0, new Uint32Array([token]));
    device.queue.writeBuffer(buf.step, 0, new Uint32Array([pos]));

    const encoder = device.createCommandEncoder({ label: `step ${pos}` });
    let pass = encoder.beginComputePass({ label: 'embedding' });
    run(pass, this.embedding); // x = token_embd[token]                      [dim]
    for (const L of this.layers) {
      run(pass, L.attnNorm); // xb = rmsnorm(x) * attn_norm                   [dim]
      run(pass, L.q); // q = Wq xb                                             [nHeads*headDim]
      run(pass, L.k); // k = Wk xb                                             [nKvHeads*headDim]
      run(pass, L.v); // v = Wv xb                                             [nKvHeads*headDim]
      run(pass, L.ropeQ); // rotate q by pos
      run(pass, L.ropeK); // rotate k by pos
      pass.end();
      encoder.copyBufferToBuffer(buf.k, 0, L.kCache, pos * kvBytes, kvBytes); // kCache[pos] = k
      encoder.copyBufferToBuffer(buf.v, 0, L.vCache, pos * kvBytes, kvBytes); // vCache[pos] = v
      pass = encoder.beginComputePass({ label: 'layer' });
      run(pass, L.attention); // att = softmax(q kCache[0..pos]ᵀ / √headDim) vCache[0..pos]
      run(pass, L.o); // xb2 = Wo att                                          [dim]
      run(pass, L.attnResidual); // x += xb2
      run(pass, L.ffnNorm); // xb = rmsnorm(x) * ffn_norm
      run(pass, L.gate); // hb = W_gate xb                                     [ffn]
      run(pass, L.up); // hb2 = W_up xb                                        [ffn]
      run(pass, L.swiglu); // hb = silu(hb) * hb2
      run(pass, L.down); // xb2 = W_down hb                                    [dim]
      run(pass, L.ffnResidual); // x += xb2
    }
    if (output !== 'none') {
      run(pass, this.outputNorm); // xb = rmsnorm(x) * output_norm
      run(pass, this.logits); // logits = W_out xb                             [vocab]
      if (output === 'token') run(pass, this.argmax); // token = argmax(logits)
    }
    pass.end();
    if (output === 'token') encoder.copyBufferToBuffer(buf.token, 0, buf.tokenReadback, 0, 4);
    if (output === 'logits') encoder.copyBufferToBuffer(buf.logits, 0, buf.logitsReadback, 0, buf.logitsReadback.size);
    device.queue.submit([encoder.finish()]);

    if (output === 'token') {
      await buf.tokenReadback.mapAsync(GPUMapMode.READ);
      const id = new Uint32Array(buf.tokenReadback.getMappedRange())[0]!;
      buf.tokenReadback.unmap();
      return id;
    }
    if (output === 'logits') {
      await buf.logitsReadback.mapAsync(GPUMapMode.READ);
      const logits = new Float32Array(buf.logitsReadback.getMappedRange().slice(0, 4 * config.vocabSize));
      buf.logitsReadback.unmap();
      return logits;
    }
  }
}

interface ActivationBuffers {
  step: GPUBuffer; token: GPUBuffer; x: GPUBuffer; xb: GPUBuffer; xb2: GPUBuffer; q: GPUBuffer; k: GPUBuffer; v: GPUBuffer;
  att: GPUBuffer; scores: GPUBuffer; hb: GPUBuffer; hb2: GPUBuffer; logits: GPUBuffer; ropeTable: GPUBuffer;
  tokenReadback: GPUBuffer; logitsReadback: GPUBuffer;
}

function run(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(d.x);
}

/**
 * cos/sin of θ = pos · base^(−2i/ropeDim), [ctx, ropeDim/2, 2], computed with f32 rounding at each
 * step as llama2.c does (powf, then pos·freq, then cosf), so angles agree with the reference bit for bit.
 */
export function ropeTable(contextLength: number, ropeDim: number, freqBase: number): Float32Array {
  const half = ropeDim / 2;
  const table = new Float32Array(contextLength * half * 2);
  const f = Math.fround;
  for (let i = 0; i < half; i++) {
    const freq = f(1 / f(Math.pow(freqBase, f((2 * i) / ropeDim))));
    for (let pos = 0; pos < contextLength; pos++) {
      const theta = f(pos * freq);
      table[(pos * half + i) * 2] = Math.cos(theta);
      table[(pos * half + i) * 2 + 1] = Math.sin(theta);
    }
  }
  return table;
}
