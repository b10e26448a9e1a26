// The decoder-only transformer forward pass on the GPU, one token at a time, for every supported
// architecture. The ModelConfig decides at load which dispatches exist (bias adds, q/k norms, rope,
// post-norms, soft-caps, the FFN's activation…) and `create` lays them out as a fixed program; a decode
// step replays it with no knowledge of the architecture.
//
// Everything that costs anything — buffers, pipelines, bind groups — is made in `create`. A decode step
// only writes the token and its position, records one command encoder, submits it once and reads back
// one u32 (or the logits, for sampling and tests).
import type { BufferPool } from '../gpu/buffers';
import { workgroups, type ComputePrecision } from '../gpu/kernels';
import type { ModelConfig, RopeConfig } from './config';
import { Dispatcher, run, type Dispatch } from './dispatch';
import { ropeTable } from './rope';
import type { ModelWeights, Norm } from './weights';

/** What a step reads back to the CPU. */
export type StepOutput = 'none' | 'token' | 'logits';

/** One layer's dispatches, in order, around the copy of this token's k and v into the layer's cache. */
interface LayerProgram { beforeCache: Dispatch[]; afterCache: Dispatch[]; kCache: GPUBuffer; vCache: GPUBuffer }

interface ActivationBuffers {
  step: GPUBuffer; token: GPUBuffer; x: GPUBuffer; xb: GPUBuffer; xb2: GPUBuffer;
  q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; att: GPUBuffer; scores: GPUBuffer; hb: GPUBuffer; logits: GPUBuffer;
  tokenReadback: GPUBuffer; logitsReadback: GPUBuffer;
}

export class TransformerModel {
  private constructor(
    private readonly device: GPUDevice,
    readonly config: ModelConfig,
    /** Positions the KV cache holds. */
    readonly contextLength: number,
    private readonly buf: ActivationBuffers,
    /** token → x. */
    private readonly embed: Dispatch[],
    private readonly layers: LayerProgram[],
    /** x → logits. */
    private readonly head: Dispatch[],
    private readonly argmax: Dispatch,
  ) {}

  /** `bindingLimit` lowers the device's storage binding limit (tests exercise row-block splitting with it). */
  static async create(device: GPUDevice, config: ModelConfig, weights: ModelWeights, pool: BufferPool, contextLength: number, bindingLimit?: number, precision: ComputePrecision = 'f32'): Promise<TransformerModel> {
    const { embeddingLength: dim, feedForwardLength: ffn, headCount, headCountKv, headDim, vocabSize, normEps } = config;
    const qDim = headCount * headDim;
    const kvDim = headCountKv * headDim;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const f32 = (label: string, n: number) => pool.create(label, 4 * n, storage);

    const buf: ActivationBuffers = {
      step: pool.create('step', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST), // { pos: u32 }
      token: pool.create('token', 16, storage), // [1] u32: input token, then argmax output
      x: f32('x', dim), // residual stream [dim]
      xb: f32('xb', dim), // normed input of a sub-block, or its post-normed output [dim]
      xb2: f32('xb2', dim), // sub-block output before the residual add [dim]
      q: f32('q', qDim), // [nHeads, headDim]
      k: f32('k', kvDim), // [nKvHeads, headDim], copied into the cache at pos
      v: f32('v', kvDim),
      att: f32('att', qDim), // attention output [nHeads, headDim]
      scores: f32('scores', headCount * contextLength), // [nHeads, ctx] softmax scratch
      hb: f32('hb', ffn), // FFN hidden [ffn]: gate (or up), then the activation
      logits: f32('logits', vocabSize), // [vocab]
      tokenReadback: pool.create('token readback', 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      logitsReadback: pool.create('logits readback', 4 * vocabSize, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
    };
    // Projections before a per-head q/k norm, which cannot norm in place (its input is read by all threads).
    const qRaw = config.qkNorm ? f32('q before norm', qDim) : buf.q;
    const kRaw = config.qkNorm ? f32('k before norm', kvDim) : buf.k;
    const hbUp = config.feedForward === 'gelu' ? null : f32('hb up', ffn); // up of a gated FFN [ffn]

    // One cos/sin table per distinct rope (Gemma 3's windowed layers have their own).
    const ropeTables = new Map<string, GPUBuffer>();
    const ropeTableOf = (rope: RopeConfig) => {
      const key = JSON.stringify(rope);
      let table = ropeTables.get(key);
      if (!table) {
        const factors = rope.freqFactors ? weights.ropeFactors.get(rope.freqFactors)! : null;
        table = pool.createWith(`rope cos/sin ${ropeTables.size}`, ropeTable(contextLength, rope, factors));
        ropeTables.set(key, table);
      }
      return table;
    };

    const d = new Dispatcher(device, bindingLimit, precision); // precision: f32 or f16 arithmetic in every weight kernel
    const norm = (label: string, input: GPUBuffer, n: Norm, out: GPUBuffer) =>
      config.norm === 'rms' ? d.rmsnorm(label, input, n.weight, out, dim, normEps) : d.layernorm(label, input, n, out, dim, normEps);
    const rope = (label: string, r: RopeConfig, x: GPUBuffer, heads: number) =>
      d.make(label, 'rope', { N_HEADS: heads, HEAD_DIM: headDim, ROT_DIM: r.dim, NEOX: r.style === 'neox' ? 1 : 0 },
        workgroups((heads * r.dim) / 2), [buf.step, x, ropeTableOf(r)]);
    /** x += post_norm(out) when the model norms sub-block outputs, else x += out. */
    const residual = async (label: string, out: GPUBuffer, postNorm: Norm | null): Promise<Dispatch[]> => postNorm
      ? [await norm(`${label}.post_norm`, out, postNorm, buf.xb), await d.add(`${label}.residual`, buf.x, buf.xb, dim)]
      : [await d.add(`${label}.residual`, buf.x, out, dim)];

    const e = weights.tokenEmbedding;
    const embed = await d.embedding('embedding', e, buf.token, buf.x); // x = token_embd[token]
    if (config.embeddingScale !== 1) embed.push(await d.inPlace('embedding scale', 'scale', buf.x, dim, { SCALE: config.embeddingScale })); // x *= √dim
    const pe = weights.positionEmbedding;
    if (pe) embed.push(await d.make('position', 'position', { DIM: dim }, workgroups(dim), [buf.step, pe.buffer, buf.x], pe.dtype)); // x += position_embd[pos]

    const layers: LayerProgram[] = [];
    for (const [l, w] of weights.layers.entries()) {
      const windowed = config.slidingWindow?.layers[l] === true;
      const layerRope = windowed ? config.slidingWindow!.rope : config.rope;
      const beforeCache: Dispatch[] = [
        await norm(`${l}.attn_norm`, buf.x, w.attnNorm, buf.xb), // xb = norm(x)                       [dim]
        ...await d.linear(`${l}.q`, w.q, buf.xb, qRaw), // q = Wq xb (+ bq)                             [nHeads*headDim]
        ...await d.linear(`${l}.k`, w.k, buf.xb, kRaw), // k = Wk xb (+ bk)                             [nKvHeads*headDim]
        ...await d.linear(`${l}.v`, w.v, buf.xb, buf.v), // v = Wv xb (+ bv)                            [nKvHeads*headDim]
      ];
      if (w.qNorm && w.kNorm) {
        beforeCache.push(
          await d.rmsnorm(`${l}.q_norm`, qRaw, w.qNorm, buf.q, headDim, normEps, headCount), // each q head rms-normed
          await d.rmsnorm(`${l}.k_norm`, kRaw, w.kNorm, buf.k, headDim, normEps, headCountKv),
        );
      }
      if (layerRope) {
        beforeCache.push(
          await rope(`${l}.rope_q`, layerRope, buf.q, headCount), // rotate q by pos
          await rope(`${l}.rope_k`, layerRope, buf.k, headCountKv), // rotate k by pos
        );
      }

      const kCache = f32(`k cache ${l}`, contextLength * kvDim); // [ctx, nKvHeads, headDim]
      const vCache = f32(`v cache ${l}`, contextLength * kvDim);
      const attentionConstants = {
        N_HEADS: headCount, N_KV_HEADS: headCountKv, HEAD_DIM: headDim, CTX: contextLength,
        SCALE: config.attentionScale, SOFTCAP: config.attentionSoftcap, WINDOW: windowed ? config.slidingWindow!.size : 0,
      };
      const afterCache: Dispatch[] = [
        // att = softmax(cap(scale · q kCache[window..pos]ᵀ)) vCache[window..pos]
        await d.make(`${l}.attention`, 'attention', attentionConstants, headCount, [buf.step, buf.q, kCache, vCache, buf.scores, buf.att]),
        ...await d.linear(`${l}.o`, w.o, buf.att, buf.xb2), // xb2 = Wo att (+ bo)                     [dim]
        ...await residual(`${l}.attn`, buf.xb2, w.attnPostNorm), // x += (post_norm(xb2) or xb2)
        await norm(`${l}.ffn_norm`, buf.x, w.ffnNorm, buf.xb), // xb = norm(x)
      ];
      if (w.gate && hbUp) {
        afterCache.push(
          ...await d.linear(`${l}.gate`, w.gate, buf.xb, buf.hb), // hb = W_gate xb                  [ffn]
          ...await d.linear(`${l}.up`, w.up, buf.xb, hbUp), // hbUp = W_up xb                         [ffn]
          await d.gated(`${l}.${config.feedForward}`, config.feedForward === 'geglu' ? 'geglu' : 'swiglu', buf.hb, hbUp, ffn), // hb = act(hb) · hbUp
        );
      } else {
        afterCache.push(
          ...await d.linear(`${l}.up`, w.up, buf.xb, buf.hb), // hb = W_up xb + b                      [ffn]
          await d.inPlace(`${l}.gelu`, 'gelu', buf.hb, ffn), // hb = gelu(hb)
        );
      }
      afterCache.push(
        ...await d.linear(`${l}.down`, w.down, buf.hb, buf.xb2), // xb2 = W_down hb (+ b)              [dim]
        ...await residual(`${l}.ffn`, buf.xb2, w.ffnPostNorm), // x += (post_norm(xb2) or xb2)
      );
      layers.push({ beforeCache, afterCache, kCache, vCache });
    }

    const head = [
      await norm('output_norm', buf.x, weights.outputNorm, buf.xb), // xb = norm(x)
      ...await d.linear('output', weights.output, buf.xb, buf.logits), // logits = W_out xb (+ b)      [vocab]
    ];
    if (config.finalSoftcap > 0) head.push(await d.inPlace('logit softcap', 'softcap', buf.logits, vocabSize, { CAP: config.finalSoftcap }));
    const argmax = await d.make('argmax', 'argmax', { N: vocabSize }, 1, [buf.logits, buf.token]); // token = argmax(logits)
    return new TransformerModel(device, config, contextLength, buf, embed, layers, head, argmax);
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
    for (const d of this.embed) run(pass, d);
    for (const L of this.layers) {
      for (const d of L.beforeCache) run(pass, d); // norm, q/k/v, q/k norm, rope
      pass.end();
      encoder.copyBufferToBuffer(buf.k, 0, L.kCache, pos * kvBytes, kvBytes); // kCache[pos] = k
      encoder.copyBufferToBuffer(buf.v, 0, L.vCache, pos * kvBytes, kvBytes); // vCache[pos] = v
      pass = encoder.beginComputePass({ label: 'layer' });
      for (const d of L.afterCache) run(pass, d); // attention, output projection, FFN, residuals
    }
    if (output !== 'none') for (const d of this.head) run(pass, d);
    if (output === 'token') run(pass, this.argmax);
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
