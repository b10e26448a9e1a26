// The forward pass's blocks — embedding, attention input, attention, feed-forward, output head — as prebuilt
// dispatches, over op helpers that hide how this load runs them: RMSNorm fused into the products or dispatched
// before them (fuseNorm), projections stacked into one product or run one by one (the loader's layouts), what
// follows a product in its epilogue where nothing sits between (biases; rope and the K/V cache write; the ungated
// FFN's gelu; the residual adds of the o and down products), the 8-bit activations of precision 'q8', flash or
// split-K attention, the packed entry points of an embedding model.
// TransformerModel.create calls the blocks in the order of the math; each returns its dispatches in run order.
import type { BufferPool } from '../gpu/buffers';
import { headArgmaxParts, reductionParts, workgroups } from '../gpu/kernels';
import type { ModelConfig, RopeConfig } from './config';
import { Dispatcher, tokenGrid, type Dispatch, type DispatcherOptions, type FusedNorm, type ProductOptions, type QkvEpilogue } from './dispatch';
import type { LayerWeights, Linear, Norm, Projections } from './layer';
import { activationBuffers, ATTENTION_CHUNK, attentionSplits, FLASH_MAX_HEAD_DIM, FLASH_MIN_CHUNK, flashDecodeSplits, flashPrefillTiles, stackRanges, type ActivationName, type ActivationPlan } from './memory';
import { ropeTable } from './rope';
import type { ModelWeights } from './weights';

/** The activation buffers by name (memory.ts's activationBuffers); those a load does not allocate are null. */
export type Activations = Record<Exclude<ActivationName, OptionalActivation>, GPUBuffer> & Record<OptionalActivation, GPUBuffer | null> & {
  /** Embeddings: the final hidden states [B, dim] (xb, or x for an encoder). */
  hidden: GPUBuffer;
};
type OptionalActivation = 'seqs' | 'hiddenReadback' | 'qRaw' | 'kRaw' | 'partials' | 'hbUp' | 'xq';

const USAGE = {
  storage: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  uniform: () => GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  input: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  readback: () => GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
};

/** Allocates every buffer activationBuffers lists (in its order). */
export function allocateActivations(pool: BufferPool, config: ModelConfig, plan: ActivationPlan): Activations {
  const buf: Partial<Record<ActivationName, GPUBuffer>> = {};
  for (const b of activationBuffers(config, plan)) buf[b.name] = pool.create(b.label, b.bytes, USAGE[b.usage]());
  const optional = { seqs: null, hiddenReadback: null, qRaw: null, kRaw: null, partials: null, hbUp: null, xq: null };
  const all = { ...optional, ...buf } as Omit<Activations, 'hidden'>;
  return { ...all, hidden: config.encoder ? all.x : all.xb };
}

/** Whether a Projections runs as one stacked product. */
export const isStacked = (p: Projections): boolean => p.matrices.length === 1 && p.rows.length > 1;

const single = (l: Linear): Projections => ({ matrices: [l.weight], rows: [l.weight.rows], stacks: [1], biases: [l.bias] });

/** The load options the blocks read (TransformerModel's ModelOptions). */
interface BlockOptions extends DispatcherOptions {
  attention?: 'flash' | 'split' | 'whole';
  fuseNorm?: boolean;
  /** The argmax over many workgroups (ModelOptions.wideSampling). */
  wideSampling?: boolean;
  /** Set for an embedding model: packed sequences (the main_packed entry points). */
  embeddings?: object;
}

/**
 * What follows a projection in its product's epilogue (besides its bias): the residual add (into x), gelu (the
 * ungated FFN's up product), the q/k/v epilogue, or the head's argmax partials.
 */
interface ProjectEpilogue { residual?: boolean; gelu?: boolean; qkv?: QkvEpilogue; argmax?: GPUBuffer }

/** Makes the dispatches of one model's forward pass; one per load. */
export class ForwardBlocks {
  readonly d: Dispatcher;
  /** Tokens per pass. */
  private readonly B: number;
  private readonly packed: boolean;
  /** What main reads for positions; main_packed reads seqs instead. */
  private readonly step: GPUBuffer | null;
  /** The packed entry point of attention, rope and positions (seqs bound last) for embeddings. */
  private readonly entry: 'main_packed' | undefined;
  /** Split-K attention partials when this load splits, and the number of chunks (1: unsplit). */
  private readonly attPartials: GPUBuffer | null;
  private readonly splits: number;
  private readonly ropeTables = new Map<string, GPUBuffer>();

  constructor(device: GPUDevice, private readonly config: ModelConfig, private readonly weights: ModelWeights, private readonly pool: BufferPool,
    private readonly contextLength: number, private readonly buf: Activations, batch: number, private readonly options: BlockOptions) {
    this.d = new Dispatcher(device, options);
    this.B = batch;
    this.packed = options.embeddings !== undefined;
    this.step = this.packed ? null : buf.step;
    this.entry = this.packed ? 'main_packed' : undefined;
    const splits = attentionSplits(config, contextLength, batch).splits;
    this.attPartials = (options.attention ?? 'split') === 'split' && splits > 1 ? buf.partials : null;
    this.splits = this.attPartials ? splits : 1;
  }

  /** x[t] = token_embd[token[t]] (· scale) (+ position_embd[pos + t]); an encoder adds token type 0 and LayerNorms. */
  async embedding(): Promise<Dispatch[]> {
    const { d, buf, config, B } = this;
    const dim = config.embeddingLength;
    const enc = this.weights.encoderInput;
    const embedded = enc ? buf.xb2 : buf.x; // an encoder norms its embedding into x
    const embed = await d.embedding('embedding', this.weights.tokenEmbedding, buf.token, embedded);
    if (config.embeddingScale !== 1) embed.push(await d.inPlace('embedding scale', 'scale', buf.x, dim, B, { SCALE: config.embeddingScale })); // x *= √dim
    const pe = this.weights.positionEmbedding;
    if (pe) embed.push(await d.make('position', 'position', { DIM: dim }, tokenGrid(workgroups(dim)), [this.step, pe.buffer, embedded, buf.seqs], pe.dtype, this.entry));
    if (enc?.tokenType) embed.push(await d.addBias('token type', embedded, enc.tokenType, dim, B)); // x[t] += token_types[0]
    if (enc) embed.push(await this.norm('embedding norm', embedded, enc.norm, buf.x)); // x = LayerNorm(x)
    return embed;
  }

  /**
   * q, k, v = Wq, Wk, Wv attn_norm(x) (+ biases), each q and k head RMS-normed (qkNorm), rotated by position; k and v
   * are the pass's rows of the layer's caches. `cacheWritten`: the q/k/v products' epilogue rotates q and k and
   * writes k and v straight into the caches (one dispatch in all for a stacked [q; k; v], and for two matrices of
   * two types where the Dispatcher mixes them; else one per matrix), or, for a cache that is not f32, the last dispatch converts buf.k and buf.v into it
   * (kv-store.wgsl); false: they land in buf.k and buf.v, which the caller copies into the f32 caches after these
   * dispatches. The epilogue needs nothing between the products and the cache but bias and rope, rope pairs it can
   * hold (packed sequences rotate by their own positions, read by rope.wgsl's main_packed), and each matrix in one
   * binding.
   */
  async attentionInput(l: number, w: LayerWeights, kCache: GPUBuffer, vCache: GPUBuffer): Promise<{ dispatches: Dispatch[]; cacheWritten: boolean }> {
    const { d, buf, config } = this;
    const { headCount, headCountKv, headDim, normEps } = config;
    const rope = this.windowed(l) ? config.slidingWindow!.rope : config.rope;
    const ropeFits = !rope || (!this.packed && (rope.style === 'norm' || (headDim % 4 === 0 && rope.dim % 4 === 0)));
    const bound = w.qkv.matrices.every((m) => d.rowBlocks(m).length === 1);
    if (w.qkv.rows.length === 3 && !w.qNorm && ropeFits && bound) {
      const epilogue: QkvEpilogue = {
        step: buf.step, cacheRows: this.contextLength,
        rope: rope ? { table: this.ropeTableOf(rope), dim: rope.dim, neox: rope.style === 'neox', headDim } : undefined,
      };
      return { dispatches: await this.normThenProject(`${l}`, `${l}.attn_norm`, w.attnNorm, ['q', 'k', 'v'], w.qkv, [buf.q, kCache, vCache], { qkv: epilogue }), cacheWritten: true };
    }
    const [qOut, kOut] = w.qNorm ? [buf.qRaw!, buf.kRaw!] : [buf.q, buf.k];
    const dispatches = await this.normThenProject(`${l}`, `${l}.attn_norm`, w.attnNorm, ['q', 'k', 'v'], w.qkv, [qOut, kOut, buf.v], { qkv: { step: buf.step } });
    if (w.qNorm && w.kNorm) {
      dispatches.push(
        await d.rmsnorm(`${l}.q_norm`, qOut, w.qNorm, buf.q, headDim, normEps, headCount),
        await d.rmsnorm(`${l}.k_norm`, kOut, w.kNorm, buf.k, headDim, normEps, headCountKv),
      );
    }
    if (rope) dispatches.push(await this.rope(`${l}.rope_q`, rope, buf.q, headCount), await this.rope(`${l}.rope_k`, rope, buf.k, headCountKv));
    if (d.kvCache === 'f32') return { dispatches, cacheWritten: false };
    dispatches.push(await d.kvStore(`${l}.kv store`, buf.step, [buf.k, buf.v], [kCache, vCache], headCountKv * headDim, this.contextLength));
    return { dispatches, cacheWritten: true };
  }

  /** att = softmax(cap(scale · q kCache[window..pos]ᵀ)) vCache[window..pos] (per chunk, then merged, when split). */
  async attention(l: number, kCache: GPUBuffer, vCache: GPUBuffer): Promise<Dispatch[]> {
    if (this.options.attention === 'flash' && this.config.headDim <= FLASH_MAX_HEAD_DIM) return this.flashAttention(l, kCache, vCache);
    const { d, buf, config, B, splits, attPartials } = this;
    const { headCount, headDim } = config;
    const windowed = this.windowed(l);
    const constants = {
      N_HEADS: headCount, N_KV_HEADS: config.headCountKv, HEAD_DIM: headDim, CTX: this.contextLength,
      SCALE: config.attentionScale, SOFTCAP: config.attentionSoftcap, WINDOW: windowed ? config.slidingWindow!.size : 0,
      SPLITS: splits, CHUNK: splits > 1 ? ATTENTION_CHUNK : this.contextLength,
    };
    const bindings = [this.step, buf.q, kCache, vCache, buf.scores, attPartials ?? buf.att, buf.seqs];
    const attention = await d.make(`${l}.attention`, 'attention', constants, tokenGrid(headCount * splits), bindings, undefined, this.entry);
    if (B > 1 && !windowed && !this.packed) {
      // Prefill: tokens in pairs, each k and v read serving both (their windows would start apart).
      attention.batched = await d.make(`${l}.attention (pairs)`, 'attention', { ...constants, TOKENS: 2 },
        (tokens) => [headCount * splits, Math.ceil(tokens / 2)], bindings);
    }
    if (!attPartials) return [attention];
    const combine = await d.make(`${l}.attention combine`, 'attention-combine', { N_HEADS: headCount, HEAD_DIM: headDim, SPLITS: splits },
      tokenGrid(workgroups((headCount * headDim) / 4)), [attPartials, buf.att]);
    return [attention, combine];
  }

  /**
   * attention() on the flash kernels: a step's token by flash-decoding (attention-decode.wgsl over the chunks its
   * position needs, then attention-decode-combine.wgsl; both no-ops in passes of several tokens), passes of several
   * tokens, and every packed pass, by flash attention over tiles (attention-prefill.wgsl).
   */
  private async flashAttention(l: number, kCache: GPUBuffer, vCache: GPUBuffer): Promise<Dispatch[]> {
    const { d, buf, config, B } = this;
    const { headCount, headDim } = config;
    const windowed = this.windowed(l);
    const shape = {
      N_HEADS: headCount, N_KV_HEADS: config.headCountKv, HEAD_DIM: headDim, SCALE: config.attentionScale,
      SOFTCAP: config.attentionSoftcap, WINDOW: windowed ? config.slidingWindow!.size : 0,
    };
    const { qTile, kTile } = flashPrefillTiles(headDim);
    const prefill = (label: string) => d.make(label, 'attention-prefill', { ...shape, CTX: this.contextLength, CAPACITY: B, Q_TILE: qTile, K_TILE: kTile },
      (tokens) => [headCount, Math.ceil(tokens / qTile)], [this.step, buf.q, kCache, vCache, buf.att, buf.seqs], undefined, this.entry);
    if (this.packed) return [await prefill(`${l}.attention`)];
    const { maxSplits } = flashDecodeSplits(config, this.contextLength);
    const split = { MAX_SPLITS: maxSplits, MIN_CHUNK: FLASH_MIN_CHUNK };
    const oneToken = (x: number, y: number) => (tokens: number) => (tokens === 1 ? [x, y] as const : [0, 0] as const);
    const decode = await d.make(`${l}.attention`, 'attention-decode', { ...shape, ...split }, oneToken(headCount, maxSplits), [this.step, buf.q, kCache, vCache, buf.partials]);
    if (B > 1) decode.batched = await prefill(`${l}.attention (prefill)`);
    const combine = await d.make(`${l}.attention combine`, 'attention-decode-combine', { N_HEADS: headCount, HEAD_DIM: headDim, WINDOW: shape.WINDOW, ...split },
      oneToken(workgroups((headCount * headDim) / 4), 1), [this.step, buf.partials, buf.att]);
    return [decode, combine];
  }

  /** x += post_norm(Wo att (+ bo)); an encoder: x = attn_output_norm(Wo att + x). */
  async attentionOutput(l: number, w: LayerWeights): Promise<Dispatch[]> {
    const { buf, config } = this;
    const qDim = config.headCount * config.headDim;
    return this.projectResidual(`${l}.o`, `${l}.attn`, buf.att, qDim, single(w.o), w.attnPostNorm, w.attnNorm);
  }

  /** x += post_norm(W_down act(W_gate xb) · W_up xb), xb = ffn_norm(x) (an ungated MLP: W_down gelu(W_up xb)). */
  async feedForward(l: number, w: LayerWeights): Promise<Dispatch[]> {
    const { d, buf, config, B } = this;
    const ffn = config.feedForwardLength;
    const act = config.feedForward === 'geglu' ? 'geglu' : 'swiglu';
    const dispatches: Dispatch[] = [];
    if (config.feedForward === 'gelu') {
      dispatches.push(...await this.normThenProject(`${l}.up`, `${l}.ffn_norm`, w.ffnNorm, [], w.ffnIn, [buf.hb], { gelu: true })); // hb = gelu(W_up xb + b)
    } else if (isStacked(w.ffnIn)) {
      dispatches.push(...await this.normThenProject(`${l}`, `${l}.ffn_norm`, w.ffnNorm, ['gate', 'up'], w.ffnIn, [buf.hb])); // hb = act(W_gate xb) · W_up xb
    } else {
      dispatches.push(
        ...await this.normThenProject(`${l}`, `${l}.ffn_norm`, w.ffnNorm, ['gate', 'up'], w.ffnIn, [buf.hb, buf.hbUp!]), // hb = W_gate xb, hbUp = W_up xb
        await d.gated(`${l}.${config.feedForward}`, act, buf.hb, buf.hbUp!, ffn, B), // hb = act(hb) · hbUp
      );
    }
    return [...dispatches, ...await this.projectResidual(`${l}.down`, `${l}.ffn`, buf.hb, ffn, single(w.down), w.ffnPostNorm, w.ffnNorm)];
  }

  /**
   * logits = cap(W_out output_norm(x) (+ b)) of one token; none for an encoder. Where headArgmax, the product also
   * writes the argmax partials (argmax() then only finishes them).
   */
  async head(): Promise<Dispatch[]> {
    const { d, buf, config, weights } = this;
    if (!weights.outputNorm) return [];
    const epilogue = this.headArgmax ? { argmax: buf.argmaxParts } : {};
    const head = await this.normThenProject('output', 'output_norm', weights.outputNorm, [], single(weights.output), [buf.logits], epilogue, 1);
    if (config.finalSoftcap > 0) head.push(await d.inPlace('logit softcap', 'softcap', buf.logits, config.vocabSize, 1, { CAP: config.finalSoftcap }));
    return head;
  }

  /**
   * Whether the output head's product writes the wide argmax's partials in its epilogue, so that only argmax.wgsl's
   * finish follows it: wide sampling, a lane kernel's one-token product, and nothing between the product and the
   * logits (a bias add, the final soft-cap).
   */
  private get headArgmax(): boolean {
    const { weights, config } = this;
    return (this.options.wideSampling ?? true) && !weights.output.bias && config.finalSoftcap === 0 && this.d.fusesArgmax(weights.output.weight);
  }

  /**
   * token = argmax(logits): wide (argmax.wgsl's partials over many workgroups, or the head's own (headArgmax), then
   * finish) or in one workgroup (main), as the profile's `sampling` says.
   */
  async argmax(): Promise<Dispatch[]> {
    const { d, buf } = this;
    const N = this.config.vocabSize;
    if (!(this.options.wideSampling ?? true)) return [await d.make('argmax', 'argmax', { N }, 1, [buf.logits, buf.token])];
    const finish = (PARTS: number) => d.make('argmax finish', 'argmax', { N, PARTS }, 1, [null, buf.token, buf.argmaxParts], undefined, 'finish');
    if (this.headArgmax) return [await finish(headArgmaxParts(N))];
    const PARTS = reductionParts(N);
    return [await d.make('argmax partials', 'argmax', { N, PARTS }, PARTS, [buf.logits, null, buf.argmaxParts], undefined, 'partials'), await finish(PARTS)];
  }

  /** Embeddings: the hidden states a decoder returns, output_norm(x) of every token (an encoder's are x itself). */
  async final(): Promise<Dispatch[]> {
    const { outputNorm } = this.weights;
    return this.packed && outputNorm ? [await this.norm('output_norm (every token)', this.buf.x, outputNorm, this.buf.xb)] : [];
  }

  private windowed(l: number): boolean {
    return this.config.slidingWindow?.layers[l] === true;
  }

  /** out = norm(input) over each token's row of dim: RMSNorm or LayerNorm, as the model says. */
  private norm(label: string, input: GPUBuffer, n: Norm, out: GPUBuffer): Promise<Dispatch> {
    const { config, d } = this;
    return config.norm === 'rms'
      ? d.rmsnorm(label, input, n.weight, out, config.embeddingLength, config.normEps)
      : d.layernorm(label, input, n, out, config.embeddingLength, config.normEps);
  }

  /** Rotates each of `heads` heads of x by its token's position, with the cos/sin table of `r`. */
  private rope(label: string, r: RopeConfig, x: GPUBuffer, heads: number): Promise<Dispatch> {
    const { headDim } = this.config;
    return this.d.make(label, 'rope', { N_HEADS: heads, HEAD_DIM: headDim, ROT_DIM: r.dim, NEOX: r.style === 'neox' ? 1 : 0 },
      tokenGrid(workgroups((heads * r.dim) / 2)), [this.step, x, this.ropeTableOf(r), this.buf.seqs], undefined, this.entry);
  }

  /** One cos/sin table per distinct rope (Gemma 3's windowed layers have their own), made when first used. */
  private ropeTableOf(rope: RopeConfig): GPUBuffer {
    const key = JSON.stringify(rope);
    let table = this.ropeTables.get(key);
    if (!table) {
      const factors = rope.freqFactors ? this.weights.ropeFactors.get(rope.freqFactors)! : null;
      table = this.pool.createWith(`rope cos/sin ${this.ropeTables.size}`, ropeTable(this.contextLength, rope, factors));
      this.ropeTables.set(key, table);
    }
    return table;
  }

  /**
   * outs[i] = W_i input (+ b_i) for each projection of one input (q/k/v; gate/up, whose stack writes act(gate) · up
   * into outs[0]): one dispatch when stacked, one each otherwise (each bias in its product's epilogue). With
   * precision 'q8' the input is quantized once, first, for the products that read it as 8-bit activations. `norm`:
   * the RMSNorm before them, fused into them (or into that quantization). `capacity` 1: the output head. Dispatches
   * are labelled `label` (one projection) or `label.name` for each of `names` (`label.q+k+v` when stacked).
   */
  private async project(label: string, names: string[], input: GPUBuffer, cols: number, p: Projections, outs: GPUBuffer[], norm?: FusedNorm, capacity = this.B,
    epilogue: ProjectEpilogue = {}): Promise<Dispatch[]> {
    const { d, buf } = this;
    const labelOf = (i: number) => (p.rows.length === 1 ? label : `${label}.${names[i]}`);
    const xq = buf.xq;
    const dispatches = xq && p.matrices.some((m) => d.readsQ8(m)) ? [await d.quantizeQ8(`${label}.quantize`, input, xq, cols, norm)] : [];
    const options = { batched: capacity > 1, xq: xq ?? undefined, norm };
    const [m] = p.matrices;
    const stackLabel = `${label}.${names.join('+')}`;
    // A stacked [q; k; v]'s bias ([Σ rows]) is added in its epilogue; a stacked [gate; up] has none.
    if (p.rows.length === 3) {
      dispatches.push(...await this.projectQkv(label, names, input, p, outs as [GPUBuffer, GPUBuffer, GPUBuffer], epilogue.qkv ?? { step: buf.step }, options));
    } else if (isStacked(p)) dispatches.push(await d.stackedGlu(stackLabel, m!, input, outs[0]!, this.config.feedForward === 'geglu' ? 'geglu' : 'swiglu', options));
    else {
      const { residual, gelu, argmax } = epilogue;
      for (const [i, weight] of p.matrices.entries()) dispatches.push(...await d.matvec(labelOf(i), weight, input, outs[i]!, { ...options, bias: p.biases[i], residual, gelu, argmax }));
    }
    return dispatches;
  }

  /**
   * q, k and v of project(): each matrix of p (a stack of the projections of one type, or one alone) in main_qkv,
   * with its bias and `epilogue`, its rows' outputs written and the others bound but unused; without rope or a cache
   * write a matrix of one projection is a plain product and its bias an add (as for three separate matrices). Two
   * matrices of two types take one dispatch where the Dispatcher mixes them (main_qkv_mixed).
   */
  private async projectQkv(label: string, names: string[], input: GPUBuffer, p: Projections, outs: [GPUBuffer, GPUBuffer, GPUBuffer], epilogue: QkvEpilogue,
    options: ProductOptions): Promise<Dispatch[]> {
    const { d } = this;
    if (d.mixesQkv(p)) return d.mixedQkv(`${label}.${names.join('+')}`, p, input, outs, epilogue, options); // two types, one dispatch
    const fused = epilogue.rope !== undefined || epilogue.cacheRows !== undefined;
    const products: Dispatch[] = [];
    const biasAdds: Dispatch[] = [];
    for (const [i, { first, end }] of stackRanges(p.stacks).entries()) {
      const m = p.matrices[i]!;
      const held = [0, 1, 2].map((j) => (j >= first && j < end ? p.rows[j]! : 0));
      const partLabel = `${label}.${names.slice(first, end).join('+')}`;
      if (end - first > 1 || fused) {
        products.push(await d.stackedQkv(partLabel, m, input, outs, held[0]!, held[1]!, epilogue, { ...options, bias: p.biases[i] }));
        continue;
      }
      const j = held.findIndex((rows) => rows > 0);
      products.push(...await d.matvec(partLabel, m, input, outs[j]!, options));
      const bias = p.biases[i];
      if (bias) biasAdds.push(await d.addBias(`${partLabel}.bias`, outs[j]!, bias, p.rows[j]!, this.B));
    }
    return [...products, ...biasAdds];
  }

  /** project() on norm(x): the RMSNorm fused into the products (fuseNorm), else a norm dispatch into xb first. */
  private async normThenProject(label: string, normLabel: string, n: Norm, names: string[], p: Projections, outs: GPUBuffer[], epilogue: ProjectEpilogue = {}, capacity = this.B): Promise<Dispatch[]> {
    const { buf, config } = this;
    const dim = config.embeddingLength;
    if (config.encoder) return this.project(label, names, buf.x, dim, p, outs, undefined, capacity, epilogue); // its norms come after
    if ((this.options.fuseNorm ?? true) && config.norm === 'rms') return this.project(label, names, buf.x, dim, p, outs, { weight: n.weight, eps: config.normEps }, capacity, epilogue);
    return [await this.norm(normLabel, buf.x, n, buf.xb), ...await this.project(label, names, buf.xb, dim, p, outs, undefined, capacity, epilogue)];
  }

  /**
   * x += post_norm(W input (+ b)) when the model norms sub-block outputs; else x += W input (+ b), the bias and the
   * add in the product's epilogue; an encoder: x = norm(W input (+ b) + x).
   */
  private async projectResidual(label: string, residualLabel: string, input: GPUBuffer, cols: number, p: Projections, postNorm: Norm | null, encoderNorm: Norm): Promise<Dispatch[]> {
    const { d, buf, config, B } = this;
    const dim = config.embeddingLength;
    if (!config.encoder && !postNorm) return this.project(label, [], input, cols, p, [buf.x], undefined, B, { residual: true });
    const product = await this.project(label, [], input, cols, p, [buf.xb2]); // xb2 = W input (+ b)
    if (config.encoder) return [...product, await d.add(`${residualLabel}.residual`, buf.xb2, buf.x, dim, B), await this.norm(`${residualLabel}.out_norm`, buf.xb2, encoderNorm, buf.x)];
    if (postNorm) return [...product, await this.norm(`${residualLabel}.post_norm`, buf.xb2, postNorm, buf.xb), await d.add(`${residualLabel}.residual`, buf.x, buf.xb, dim, B)];
    return [...product, await d.add(`${residualLabel}.residual`, buf.x, buf.xb2, dim, B)];
  }
}
