// The decoder-only transformer forward pass on the GPU for every supported architecture. The ModelConfig
// decides at load which dispatches exist (bias adds, q/k norms, rope, post-norms, soft-caps, the FFN's
// activation…) and `create` lays them out as a fixed program; a pass replays it with no knowledge of the
// architecture. One program serves both a decode step (one token) and a prefill pass (a batch of up to
// `batchSize` prompt tokens at consecutive positions): activations are [tokens, …] buffers, grids grow
// with the token count, and matrix-vector products become matrix-matrix products (matmul.wgsl, which
// sums exactly like matvec.wgsl, so a prefilled cache equals one built token by token).
//
// Everything that costs anything — buffers, pipelines, bind groups — is made in `create`. A decode step
// only writes the token and its position, records one command encoder, submits it once and reads back
// one u32 (or the logits, for sampling and tests).
import type { BufferPool } from '../gpu/buffers';
import { workgroups } from '../gpu/kernels';
import type { ModelPrecision } from '../gpu/shaders';
import type { ModelConfig, RopeConfig } from './config';
import { Dispatcher, run, tokenGrid, type Dispatch, type FusedNorm } from './dispatch';
import { ATTENTION_CHUNK, attentionSplits, prefillBatch, q8ScratchBytes } from './memory';
import { ropeTable } from './rope';
import type { ModelWeights, Norm, Projections } from './weights';

/** What a step reads back to the CPU. */
export type StepOutput = 'none' | 'token' | 'logits';

/**
 * Replaces the argmax of a 'token' step (the GPU sampler, src/engine/gpu-sampler.ts): prebuilt dispatches
 * that read the logits and leave the chosen id in `tokenBuffer[0]`, run in the step's pass, and copies recorded
 * after it (into the same encoder, so the step stays one submit).
 */
export interface TokenPicker { dispatches: readonly Dispatch[]; afterPass?(encoder: GPUCommandEncoder): void }

export interface ModelOptions {
  /** Lowers the device's storage binding limit (tests exercise row-block splitting with it). */
  bindingLimit?: number;
  /** Arithmetic of the weight kernels. Default 'f32'. */
  precision?: ModelPrecision;
  /** Split-K attention when the context is longer than ATTENTION_CHUNK (the partials are allocated either way). Default true. */
  splitAttention?: boolean;
  /**
   * RMSNorm fused into the products that read its output (no rmsnorm dispatch before them; their activations are
   * bit for bit the same). Default true.
   */
  fuseNorm?: boolean;
  /** One-token float products on matvec-subgroup.wgsl (the device must have 'subgroups'). Default false. */
  subgroupMatvec?: boolean;
  /** Prompt tokens a prefill pass asks for (AdapterProfile.prefillBatch; prefillBatch may run fewer). Default PREFILL_BATCH. */
  prefillBatch?: number;
  /**
   * An embedding model: a pass runs several sequences packed one after another (`hidden`), each attending only
   * within itself (causally or not, as the config says) from position 0; `batch` tokens per pass (default
   * prefillBatch's). No decoding.
   */
  embeddings?: { batch?: number };
}

/** One layer's dispatches, in order, around the copy of this token's k and v into the layer's cache. */
interface LayerProgram { beforeCache: Dispatch[]; afterCache: Dispatch[]; kCache: GPUBuffer; vCache: GPUBuffer }

interface ActivationBuffers {
  step: GPUBuffer; token: GPUBuffer; x: GPUBuffer; xb: GPUBuffer; xb2: GPUBuffer;
  q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; att: GPUBuffer; scores: GPUBuffer; hb: GPUBuffer; logits: GPUBuffer;
  tokenReadback: GPUBuffer; logitsReadback: GPUBuffer;
  /** Embeddings: per token (position, first, end, 0), the cache range [first, end) it attends to [B, 4] u32. */
  seqs: GPUBuffer | null;
  /** Embeddings: the final hidden states [B, dim] (xb, or x for an encoder) and their readback. */
  hidden: GPUBuffer; hiddenReadback: GPUBuffer | null;
}

export class TransformerModel {
  private constructor(
    readonly device: GPUDevice,
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
    /** Embeddings: x → the hidden states the model returns (output_norm of every token; none for an encoder). */
    private readonly final: Dispatch[],
    /** Most tokens one prefill pass runs. */
    readonly batchSize: number,
  ) {}

  static async create(device: GPUDevice, config: ModelConfig, weights: ModelWeights, pool: BufferPool, contextLength: number, options: ModelOptions = {}): Promise<TransformerModel> {
    const { bindingLimit, precision = 'f32', splitAttention = true, fuseNorm = true, subgroupMatvec = false } = options;
    const { embeddingLength: dim, feedForwardLength: ffn, headCount, headCountKv, headDim, vocabSize, normEps } = config;
    const qDim = headCount * headDim;
    const kvDim = headCountKv * headDim;
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const packed = options.embeddings !== undefined;
    const B = prefillBatch(config, contextLength, bindingLimit, options.embeddings?.batch ?? options.prefillBatch);
    const f32 = (label: string, n: number) => pool.create(label, 4 * n, storage);

    // Activations hold B tokens; a decode step uses the first row of each.
    const buf: ActivationBuffers = {
      step: pool.create('step', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST), // { pos: u32 } of the first token
      token: pool.create('token', 4 * B, storage), // [B] u32: input tokens, then the argmax output in [0]
      x: f32('x', B * dim), // residual stream [B, dim]
      xb: f32('xb', B * dim), // normed input of a sub-block, or its post-normed output [B, dim]
      xb2: f32('xb2', B * dim), // sub-block output before the residual add [B, dim]
      q: f32('q', B * qDim), // [B, nHeads, headDim]
      k: f32('k', B * kvDim), // [B, nKvHeads, headDim], copied into the cache at pos
      v: f32('v', B * kvDim),
      att: f32('att', B * qDim), // attention output [B, nHeads, headDim]
      scores: f32('scores', B * headCount * contextLength), // [B, nHeads, ctx] softmax scratch
      hb: f32('hb', B * ffn), // FFN hidden [B, ffn]: gate (or up), then the activation
      logits: f32('logits', vocabSize), // [vocab] (of one token: the head runs on decode steps only)
      tokenReadback: pool.create('token readback', 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      logitsReadback: pool.create('logits readback', 4 * vocabSize, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      seqs: packed ? pool.create('sequences', 16 * B, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST) : null,
      hidden: null!, // set below
      hiddenReadback: packed ? pool.create('hidden readback', 4 * B * dim, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST) : null,
    };
    buf.hidden = config.encoder ? buf.x : buf.xb;
    /** The packed form of attention, rope and positions (entry point main_packed, seqs bound last) for embeddings. */
    const entry = packed ? 'main_packed' as const : undefined;
    const step = packed ? null : buf.step; // what main reads for positions; main_packed reads seqs instead
    // Projections before a per-head q/k norm, which cannot norm in place (its input is read by all threads).
    const qRaw = config.qkNorm ? f32('q before norm', B * qDim) : buf.q;
    const kRaw = config.qkNorm ? f32('k before norm', B * kvDim) : buf.k;
    // Split-K attention for contexts longer than ATTENTION_CHUNK: partials per chunk, merged by attention-combine.
    // The partials exist whether or not this device splits, so the GPU bytes are the same everywhere.
    const { splits: chunks, partialBytes } = attentionSplits(config, contextLength, B);
    const partials = chunks > 1 && !packed ? pool.create('attention partials', partialBytes, storage) : null; // [B, nHeads, splits, headDim + 4]
    const attPartials = splitAttention ? partials : null;
    const splits = attPartials ? chunks : 1;
    const stacked = (p: Projections) => p.matrices.length === 1 && p.rows.length > 1;
    // The up product of a gated FFN whose gate and up are not stacked (run as one product) [B, ffn].
    const hbUp = weights.layers.some((w) => w.ffnIn.rows.length > 1 && !stacked(w.ffnIn)) ? f32('hb up', B * ffn) : null;
    // Precision 'q8': the input of the q4_0/q8_0 products quantized to 8 bits [B, cols / 32 blocks], rewritten
    // for each input just before the products that read it.
    const xq = precision === 'q8' ? pool.create('activations q8', q8ScratchBytes(config, B), storage) : null;

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

    const d = new Dispatcher(device, bindingLimit, precision, subgroupMatvec); // precision: f32 or f16 arithmetic in every weight kernel
    const norm = (label: string, input: GPUBuffer, n: Norm, out: GPUBuffer) =>
      config.norm === 'rms' ? d.rmsnorm(label, input, n.weight, out, dim, normEps) : d.layernorm(label, input, n, out, dim, normEps);
    const rope = (label: string, r: RopeConfig, x: GPUBuffer, heads: number) =>
      d.make(label, 'rope', { N_HEADS: heads, HEAD_DIM: headDim, ROT_DIM: r.dim, NEOX: r.style === 'neox' ? 1 : 0 },
        tokenGrid(workgroups((heads * r.dim) / 2)), [step, x, ropeTableOf(r), buf.seqs], undefined, entry);
    /**
     * outs[i] = W_i input (+ b_i) for each projection of one input (q/k/v; gate/up, whose stack writes act(gate) · up
     * into outs[0]): one dispatch when stacked. With precision 'q8' the input is quantized once, first, for the
     * products that read it as 8-bit activations. `norm`: the RMSNorm before them, fused into them (or into that
     * quantization). `capacity` 1: the output head. Dispatches are labelled `label` (one projection) or
     * `label.name` for each of `names` (`label.q+k+v` when stacked).
     */
    const project = async (label: string, names: string[], input: GPUBuffer, cols: number, p: Projections, outs: GPUBuffer[], norm?: FusedNorm, capacity = B): Promise<Dispatch[]> => {
      const labelOf = (i: number) => (p.rows.length === 1 ? label : `${label}.${names[i]}`);
      const dispatches = xq && p.matrices.some((m) => d.readsQ8(m)) ? [await d.quantizeQ8(`${label}.quantize`, input, xq, cols, norm)] : [];
      const options = { batched: capacity > 1, xq: xq ?? undefined, norm };
      const [m] = p.matrices;
      const stackLabel = `${label}.${names.join('+')}`;
      if (stacked(p) && p.rows.length === 3) dispatches.push(await d.stackedQkv(stackLabel, m!, input, outs as [GPUBuffer, GPUBuffer, GPUBuffer], p.rows[0]!, p.rows[1]!, options));
      else if (stacked(p)) dispatches.push(await d.stackedGlu(stackLabel, m!, input, outs[0]!, config.feedForward === 'geglu' ? 'geglu' : 'swiglu', options));
      else for (const [i, weight] of p.matrices.entries()) dispatches.push(...await d.matvec(labelOf(i), weight, input, outs[i]!, options));
      for (const [i, bias] of p.biases.entries()) if (bias) dispatches.push(await d.addBias(`${labelOf(i)}.bias`, outs[i]!, bias, p.rows[i]!, capacity));
      return dispatches;
    };
    /** project() on norm(input): the RMSNorm fused into the products (fuseNorm), else a norm dispatch into xb first. */
    const normThenProject = async (label: string, normLabel: string, n: Norm, names: string[], p: Projections, outs: GPUBuffer[], capacity = B): Promise<Dispatch[]> => {
      if (config.encoder) return project(label, names, buf.x, dim, p, outs, undefined, capacity); // its norms come after
      if (fuseNorm && config.norm === 'rms') return project(label, names, buf.x, dim, p, outs, { weight: n.weight, eps: normEps }, capacity);
      return [await norm(normLabel, buf.x, n, buf.xb), ...await project(label, names, buf.xb, dim, p, outs, undefined, capacity)];
    };
    const single = (l: ModelWeights['output']): Projections => ({ matrices: [l.weight], rows: [l.weight.rows], biases: [l.bias] });
    /** x += post_norm(out) when the model norms sub-block outputs, else x += out; an encoder: x = norm(out + x). */
    const residual = async (label: string, out: GPUBuffer, postNorm: Norm | null, encoderNorm: Norm): Promise<Dispatch[]> => config.encoder
      ? [await d.add(`${label}.residual`, out, buf.x, dim, B), await norm(`${label}.out_norm`, out, encoderNorm, buf.x)]
      : postNorm ? [await norm(`${label}.post_norm`, out, postNorm, buf.xb), await d.add(`${label}.residual`, buf.x, buf.xb, dim, B)]
      : [await d.add(`${label}.residual`, buf.x, out, dim, B)];

    const e = weights.tokenEmbedding;
    const enc = weights.encoderInput;
    const embedded = enc ? buf.xb2 : buf.x; // an encoder norms its embedding into x
    const embed = await d.embedding('embedding', e, buf.token, embedded); // x[t] = token_embd[token[t]]
    if (config.embeddingScale !== 1) embed.push(await d.inPlace('embedding scale', 'scale', buf.x, dim, B, { SCALE: config.embeddingScale })); // x *= √dim
    const pe = weights.positionEmbedding;
    if (pe) embed.push(await d.make('position', 'position', { DIM: dim }, tokenGrid(workgroups(dim)), [step, pe.buffer, embedded, buf.seqs], pe.dtype, entry)); // x[t] += position_embd[pos + t]
    if (enc?.tokenType) embed.push(await d.addBias('token type', embedded, enc.tokenType, dim, B)); // x[t] += token_types[0]
    if (enc) embed.push(await norm('embedding norm', embedded, enc.norm, buf.x)); // x = LayerNorm(x)

    const layers: LayerProgram[] = [];
    for (const [l, w] of weights.layers.entries()) {
      const windowed = config.slidingWindow?.layers[l] === true;
      const layerRope = windowed ? config.slidingWindow!.rope : config.rope;
      // xb = attn_norm(x); q = Wq xb (+ bq) [nHeads*headDim], k = Wk xb (+ bk), v = Wv xb (+ bv) [nKvHeads*headDim]
      const beforeCache: Dispatch[] = await normThenProject(`${l}`, `${l}.attn_norm`, w.attnNorm, ['q', 'k', 'v'], w.qkv, [qRaw, kRaw, buf.v]);
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
        SPLITS: splits, CHUNK: splits > 1 ? ATTENTION_CHUNK : contextLength,
      };
      const attentionBindings = [step, buf.q, kCache, vCache, buf.scores, attPartials ?? buf.att, buf.seqs];
      // att = softmax(cap(scale · q kCache[window..pos]ᵀ)) vCache[window..pos] (per chunk, then merged, when split)
      const attention = await d.make(`${l}.attention`, 'attention', attentionConstants, tokenGrid(headCount * splits), attentionBindings, undefined, entry);
      if (B > 1 && !windowed && !packed) {
        // Prefill: tokens in pairs, each k and v read serving both (their windows would start apart).
        attention.batched = await d.make(`${l}.attention (pairs)`, 'attention', { ...attentionConstants, TOKENS: 2 },
          (tokens) => [headCount * splits, Math.ceil(tokens / 2)], attentionBindings);
      }
      const afterCache: Dispatch[] = [attention];
      if (attPartials) {
        afterCache.push(await d.make(`${l}.attention combine`, 'attention-combine', { N_HEADS: headCount, HEAD_DIM: headDim, SPLITS: splits },
          tokenGrid(workgroups((headCount * headDim) / 4)), [attPartials, buf.att]));
      }
      afterCache.push(
        ...await project(`${l}.o`, [], buf.att, qDim, single(w.o), [buf.xb2]), // xb2 = Wo att (+ bo)   [dim]
        ...await residual(`${l}.attn`, buf.xb2, w.attnPostNorm, w.attnNorm), // x += (post_norm(xb2) or xb2)
      );
      if (config.feedForward === 'gelu') {
        afterCache.push(
          ...await normThenProject(`${l}.up`, `${l}.ffn_norm`, w.ffnNorm, [], w.ffnIn, [buf.hb]), // hb = W_up ffn_norm(x) + b  [ffn]
          await d.inPlace(`${l}.gelu`, 'gelu', buf.hb, ffn, B), // hb = gelu(hb)
        );
      } else if (stacked(w.ffnIn)) {
        afterCache.push(...await normThenProject(`${l}`, `${l}.ffn_norm`, w.ffnNorm, ['gate', 'up'], w.ffnIn, [buf.hb])); // hb = act(W_gate xb) · W_up xb, xb = ffn_norm(x)  [ffn]
      } else {
        afterCache.push(
          ...await normThenProject(`${l}`, `${l}.ffn_norm`, w.ffnNorm, ['gate', 'up'], w.ffnIn, [buf.hb, hbUp!]), // hb = W_gate xb, hbUp = W_up xb  [ffn]
          await d.gated(`${l}.${config.feedForward}`, config.feedForward === 'geglu' ? 'geglu' : 'swiglu', buf.hb, hbUp!, ffn, B), // hb = act(hb) · hbUp
        );
      }
      afterCache.push(
        ...await project(`${l}.down`, [], buf.hb, ffn, single(w.down), [buf.xb2]), // xb2 = W_down hb (+ b)  [dim]
        ...await residual(`${l}.ffn`, buf.xb2, w.ffnPostNorm, w.ffnNorm), // x += (post_norm(xb2) or xb2)
      );
      layers.push({ beforeCache, afterCache, kCache, vCache });
    }

    const outputNorm = weights.outputNorm;
    const head = outputNorm ? await normThenProject('output', 'output_norm', outputNorm, [], single(weights.output), [buf.logits], 1) : []; // logits = W_out output_norm(x) (+ b)  [vocab]
    if (config.finalSoftcap > 0) head.push(await d.inPlace('logit softcap', 'softcap', buf.logits, vocabSize, 1, { CAP: config.finalSoftcap }));
    const argmax = await d.make('argmax', 'argmax', { N: vocabSize }, 1, [buf.logits, buf.token]); // token = argmax(logits)
    const final = packed && outputNorm ? [await norm('output_norm (every token)', buf.x, outputNorm, buf.xb)] : [];
    await d.ready(); // every pipeline above compiled in parallel
    return new TransformerModel(device, config, contextLength, buf, embed, layers, head, argmax, final, B);
  }

  /** Whether the model was made for embeddings (ModelOptions.embeddings): `hidden` works, decoding does not. */
  get embeddings(): boolean { return this.buf.seqs !== null; }

  /** The output head's logits [vocab] of the last step: what a TokenPicker reads. */
  get logitsBuffer(): GPUBuffer { return this.buf.logits; }
  /** [batch] u32: the fed tokens, then the picked id in [0]: where a TokenPicker writes. */
  get tokenBuffer(): GPUBuffer { return this.buf.token; }

  /** Resolves when the GPU has finished the work submitted so far (lets a prefill be cancelled between batches). */
  whenIdle(): Promise<void> {
    return this.device.queue.onSubmittedWorkDone();
  }

  /**
   * Runs the model over `tokens` at positions pos, pos + 1, … to fill the KV cache, reading nothing back:
   * batches of up to `batchSize` tokens, one encoder and one submit each. The caller then decodes the
   * next token with `step`, which the queue orders after this work.
   */
  prefill(tokens: readonly number[], pos: number): void {
    for (let i = 0; i < tokens.length; i += this.batchSize) {
      const batch = tokens.slice(i, i + this.batchSize);
      this.writeInputs(batch, pos + i);
      const encoder = this.device.createCommandEncoder({ label: `prefill ${pos + i}+${batch.length}` });
      this.encodeLayers(encoder, batch.length, pos + i).end();
      this.device.queue.submit([encoder.finish()]);
    }
  }

  private writeInputs(tokens: readonly number[], pos: number): void {
    this.device.queue.writeBuffer(this.buf.token, 0, new Uint32Array(tokens));
    this.device.queue.writeBuffer(this.buf.step, 0, new Uint32Array([pos]));
  }

  /** Records embedding and every layer for `n` tokens from `pos`; returns the open pass (after the last layer). */
  private encodeLayers(encoder: GPUCommandEncoder, n: number, pos: number): GPUComputePassEncoder {
    const { buf, config } = this;
    const kvBytes = 4 * config.headCountKv * config.headDim;
    let pass = encoder.beginComputePass({ label: 'embedding' });
    for (const d of this.embed) run(pass, d, n);
    for (const L of this.layers) {
      for (const d of L.beforeCache) run(pass, d, n); // norm, q/k/v, q/k norm, rope
      pass.end();
      encoder.copyBufferToBuffer(buf.k, 0, L.kCache, pos * kvBytes, n * kvBytes); // kCache[pos..pos+n) = k
      encoder.copyBufferToBuffer(buf.v, 0, L.vCache, pos * kvBytes, n * kvBytes); // vCache[pos..pos+n) = v
      pass = encoder.beginComputePass({ label: 'layer' });
      for (const d of L.afterCache) run(pass, d, n); // attention, output projection, FFN, residuals
    }
    return pass;
  }

  /**
   * Embedding models (ModelOptions.embeddings): one pass over `tokens` (at most batchSize: several sequences packed
   * one after another), token t at position seqs[4t] attending to batch positions [seqs[4t + 1], seqs[4t + 2]).
   * Returns the final hidden states of the batch positions `rows` [rows.length, dim], in that order.
   */
  async hidden(tokens: readonly number[], seqs: Uint32Array<ArrayBuffer>, rows: readonly number[]): Promise<Float32Array> {
    const { device, buf, config } = this;
    if (!buf.seqs || !buf.hiddenReadback) throw new Error('hidden(): the model was not created for embeddings');
    if (tokens.length > this.batchSize || seqs.length !== 4 * tokens.length) throw new Error(`hidden(): ${tokens.length} tokens for a batch of ${this.batchSize}`);
    this.writeInputs(tokens, 0);
    device.queue.writeBuffer(buf.seqs, 0, seqs);
    const encoder = device.createCommandEncoder({ label: `embeddings ${tokens.length}` });
    const pass = this.encodeLayers(encoder, tokens.length, 0);
    for (const d of this.final) run(pass, d, tokens.length);
    pass.end();
    const rowBytes = 4 * config.embeddingLength;
    // Runs of consecutive rows are copied at once (mean pooling reads every row).
    for (let i = 0; i < rows.length;) {
      let j = i + 1;
      while (j < rows.length && rows[j] === rows[j - 1]! + 1) j++;
      encoder.copyBufferToBuffer(buf.hidden, rows[i]! * rowBytes, buf.hiddenReadback, i * rowBytes, (j - i) * rowBytes);
      i = j;
    }
    device.queue.submit([encoder.finish()]);
    await buf.hiddenReadback.mapAsync(GPUMapMode.READ, 0, Math.max(4, rows.length * rowBytes));
    const out = new Float32Array(buf.hiddenReadback.getMappedRange(0, Math.max(4, rows.length * rowBytes)).slice(0, rows.length * rowBytes));
    buf.hiddenReadback.unmap();
    return out;
  }

  /**
   * Runs the model on `token` at position `pos` (one encoder, one submit).
   * 'none' skips the output head (prompt tokens whose prediction is not needed) and returns at once;
   * 'token' returns the argmax id (or the id `picker` chose); 'logits' returns all vocab logits.
   */
  step(token: number, pos: number, output: 'none'): Promise<void>;
  step(token: number, pos: number, output: 'token', picker?: TokenPicker): Promise<number>;
  step(token: number, pos: number, output: 'logits'): Promise<Float32Array>;
  async step(token: number, pos: number, output: StepOutput, picker?: TokenPicker): Promise<void | number | Float32Array> {
    const { device, buf, config } = this;
    this.writeInputs([token], pos);
    const encoder = device.createCommandEncoder({ label: `step ${pos}` });
    const pass = this.encodeLayers(encoder, 1, pos);
    if (output !== 'none') for (const d of this.head) run(pass, d);
    if (output === 'token' && picker) for (const d of picker.dispatches) run(pass, d);
    else if (output === 'token') run(pass, this.argmax);
    pass.end();
    picker?.afterPass?.(encoder);
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
