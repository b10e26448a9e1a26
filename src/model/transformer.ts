// The transformer forward pass on the GPU for every supported architecture. The ModelConfig decides at load
// which dispatches exist (bias adds, q/k norms, rope, post-norms, soft-caps, the FFN's activation…): `create`
// calls the blocks of forward-blocks.ts layer by layer, in the order of the math, and keeps their dispatches as a
// fixed program; a pass replays it with no knowledge of the architecture. One program serves both a decode step (one token) and a prefill pass (a batch of up to
// `batchSize` prompt tokens at consecutive positions): activations are [tokens, …] buffers, grids grow
// with the token count, and matrix-vector products become matrix-matrix products (matmul.wgsl, which
// sums exactly like matvec.wgsl, so a prefilled cache equals one built token by token).
//
// Everything that costs anything — buffers, pipelines, bind groups — is made in `create`. A decode step
// only writes the token (or takes the one the last step picked, on the GPU) and its position, records one
// command encoder, submits it once and reads back one u32 (or the logits, for sampling and tests).
import type { BufferPool } from '../gpu/buffers';
import type { Throughput } from '../gpu/profile';
import type { ModelConfig } from './config';
import { run, type Dispatch, type DispatcherOptions } from './dispatch';
import { allocateActivations, ForwardBlocks, isStacked, type Activations } from './forward-blocks';
import { kvCacheLayerBytes, prefillBatch } from './memory';
import { layerWork, SubmitPlan } from './submit-plan';
import type { ModelWeights } from './weights';

/** What a step reads back to the CPU. */
export type StepOutput = 'none' | 'token' | 'logits';

/** A decode step submitted to the GPU whose picked id has not been read back yet (TransformerModel.submitStep). */
export interface PendingToken { read(): Promise<number> }

/**
 * Replaces the argmax of a 'token' step (the GPU sampler, src/engine/gpu-sampler.ts): prebuilt dispatches
 * that read the logits and leave the chosen id in `tokenBuffer[0]`, run in the step's pass, and copies recorded
 * after it (into the same encoder, so the step stays one submit).
 */
export interface TokenPicker { dispatches: readonly Dispatch[]; afterPass?(encoder: GPUCommandEncoder): void }

/** How a model is built: the Dispatcher's kernel choices (DispatcherOptions) and the forward pass's. */
export interface ModelOptions extends DispatcherOptions {
  /** The attention kernels (AdapterProfile.attention; the partials are allocated either way). Default 'split'. */
  attention?: 'flash' | 'split' | 'whole';
  /**
   * RMSNorm fused into the products that read its output (no rmsnorm dispatch before them; their activations are
   * bit for bit the same). Default true.
   */
  fuseNorm?: boolean;
  /**
   * Argmax and the GPU sampler's full-vocabulary passes spread over many workgroups (AdapterProfile.sampling
   * 'wide'); false: one workgroup each ('single'). Default true.
   */
  wideSampling?: boolean;
  /** Prompt tokens a prefill pass asks for (AdapterProfile.prefillBatch; prefillBatch may run fewer). Default PREFILL_BATCH. */
  prefillBatch?: number;
  /**
   * What the device is assumed to sustain (AdapterProfile.throughput): prefill passes are cut into submits of at
   * most SUBMIT_SECONDS of estimated work (submit-plan.ts). Default: no estimate, one submit per pass.
   */
  throughput?: Throughput;
  /**
   * An embedding model: a pass runs several sequences packed one after another (`hidden`), each attending only
   * within itself (causally or not, as the config says) from position 0; `batch` tokens per pass (default
   * prefillBatch's). No decoding.
   */
  embeddings?: { batch?: number };
}

/**
 * One layer's dispatches, in order. Where no dispatch writes k and v into the layer's cache (ForwardBlocks.attentionInput:
 * an f32 cache the q/k/v product's epilogue cannot write), `copyAfter` of them have run when the pass stops for the
 * copy of the pass's k and v rows into the caches; null: nothing stops the pass.
 */
interface LayerProgram { dispatches: Dispatch[]; copyAfter: number | null; kCache: GPUBuffer; vCache: GPUBuffer }

export class TransformerModel {
  private constructor(
    readonly device: GPUDevice,
    readonly config: ModelConfig,
    /** Positions the KV cache holds. */
    readonly contextLength: number,
    private readonly buf: Activations,
    /** token → x. */
    private readonly embed: Dispatch[],
    private readonly layers: LayerProgram[],
    /** x → logits. */
    private readonly head: Dispatch[],
    private readonly argmax: Dispatch[],
    /** Embeddings: x → the hidden states the model returns (output_norm of every token; none for an encoder). */
    private readonly final: Dispatch[],
    /** Most tokens one prefill pass runs. */
    readonly batchSize: number,
    /** ModelOptions.wideSampling: the GPU sampler follows the argmax's choice. */
    readonly wideSampling: boolean,
    /** How prefill passes are cut into submits. */
    readonly submitPlan: SubmitPlan,
  ) {
    this.tokenReadbacks = [buf.tokenReadback, buf.tokenReadback2];
  }

  /** The two buffers decode steps copy their ids into, in turn (a pipelined decode maps one while the other fills). */
  private readonly tokenReadbacks: readonly GPUBuffer[];
  private nextReadback = 0;
  /** Readbacks with a mapAsync in flight: no step may copy into them until it ends. */
  private readonly reading = new Set<GPUBuffer>();

  static async create(device: GPUDevice, config: ModelConfig, weights: ModelWeights, pool: BufferPool, contextLength: number, options: ModelOptions = {}): Promise<TransformerModel> {
    const batch = prefillBatch(config, contextLength, options.bindingLimit, options.embeddings?.batch ?? options.prefillBatch);
    const separateUp = weights.layers.some((w) => w.ffnIn.rows.length > 1 && !isStacked(w.ffnIn));
    const plan = { contextLength, batch, packed: options.embeddings !== undefined, separateUp, q8: options.precision === 'q8' };
    const buf = allocateActivations(pool, config, plan);
    const cacheBytes = kvCacheLayerBytes(config, contextLength, options.kvCache ?? 'f32');
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const f = new ForwardBlocks(device, config, weights, pool, contextLength, buf, batch, options);

    const embed = await f.embedding(); // x = token_embd[token] (· scale, + position_embd[pos])
    const layers: LayerProgram[] = [];
    for (const [l, w] of weights.layers.entries()) {
      const kCache = pool.create(`k cache ${l}`, cacheBytes, storage); // [ctx, nKvHeads, headDim] of options.kvCache
      const vCache = pool.create(`v cache ${l}`, cacheBytes, storage);
      const input = await f.attentionInput(l, w, kCache, vCache); // q, k, v = rope(Wq, Wk, Wv · attn_norm(x)); k, v → cache
      const dispatches = [
        ...input.dispatches,
        ...await f.attention(l, kCache, vCache), // att = softmax(q kCacheᵀ) vCache
        ...await f.attentionOutput(l, w), // x += Wo att
        ...await f.feedForward(l, w), // x += W_down act(W_gate ffn_norm(x)) · W_up ffn_norm(x)
      ];
      layers.push({ dispatches, copyAfter: input.cacheWritten ? null : input.dispatches.length, kCache, vCache });
    }
    const head = await f.head(); // logits = W_out output_norm(x)
    const argmax = await f.argmax(); // token = argmax(logits)
    const final = await f.final();
    await f.d.ready(); // every pipeline above compiled in parallel
    const submitPlan = new SubmitPlan(config, weights.layers.map(layerWork), batch, options.throughput);
    return new TransformerModel(device, config, contextLength, buf, embed, layers, head, argmax, final, batch, options.wideSampling ?? true, submitPlan);
  }

  /** Whether the model was made for embeddings (ModelOptions.embeddings): `hidden` works, decoding does not. */
  get embeddings(): boolean { return this.buf.seqs !== null; }

  /** The output head's logits [vocab] of the last step: what a TokenPicker reads. */
  get logitsBuffer(): GPUBuffer { return this.buf.logits; }
  /** [batch] u32: the fed tokens, then the picked id in [0]: where a TokenPicker writes. */
  get tokenBuffer(): GPUBuffer { return this.buf.token; }

  /** Resolves when the GPU has finished the work submitted so far (lets a prefill be cancelled between submits). */
  whenIdle(): Promise<void> {
    return this.device.queue.onSubmittedWorkDone();
  }

  /**
   * Runs the model over `tokens` at positions pos, pos + 1, … to fill the KV cache, reading nothing back
   * (every submit of prefillSubmits at once). The caller then decodes the next token with `step`, which the
   * queue orders after this work.
   */
  prefill(tokens: readonly number[], pos: number): void {
    const submits = this.prefillSubmits(tokens, pos);
    while (!submits.next().done);
  }

  /**
   * Submits the prefill of `tokens` at positions pos, pos + 1, … one submit per step of the generator: passes of
   * up to `batchSize` tokens, each cut into groups of layers (submitPlan: one group for a small model), one
   * encoder and one submit each. Yields after each submit how many of `tokens` have every layer submitted, so a
   * caller may wait or stop between submits; stopped mid-pass, the KV cache past those tokens is partly written.
   */
  *prefillSubmits(tokens: readonly number[], pos: number): Generator<number, void, void> {
    for (let done = 0; done < tokens.length;) {
      const at = pos + done;
      const n = this.submitPlan.passTokens(at, tokens.length - done);
      this.writeInputs(tokens.slice(done, done + n), at);
      for (const _ of this.submitLayerGroups(n, at, `prefill ${at}+${n}`)) yield done;
      done += n;
      yield done;
    }
  }

  /**
   * Records and submits every layer for `n` tokens at `pos`, cut into the submit plan's layer groups: one encoder
   * and one submit each, yielding after each submit but the last. `last` records into the last group's open pass
   * and its encoder before that submit, and ends the pass.
   */
  private *submitLayerGroups(
    n: number, pos: number, label: string,
    last: (encoder: GPUCommandEncoder, pass: GPUComputePassEncoder) => void = (_, pass) => pass.end(),
  ): Generator<void, void, void> {
    let from = 0;
    for (const to of this.submitPlan.layerGroups(n, pos)) {
      const encoder = this.device.createCommandEncoder({ label: `${label} layers ${from}–${to - 1}` });
      const pass = this.encodeLayers(encoder, n, pos, from, to);
      if (to < this.layers.length) pass.end();
      else last(encoder, pass);
      this.device.queue.submit([encoder.finish()]);
      from = to;
      if (to < this.layers.length) yield;
    }
  }

  private writeInputs(tokens: readonly number[], pos: number): void {
    this.device.queue.writeBuffer(this.buf.token, 0, new Uint32Array(tokens));
    this.device.queue.writeBuffer(this.buf.step, 0, new Uint32Array([pos]));
  }

  /**
   * Records, for `n` tokens from `pos`, layers [from, to) — after the embedding when `from` is 0 (a later group
   * continues from the residual stream the group before left in the activations); returns the open pass.
   */
  private encodeLayers(encoder: GPUCommandEncoder, n: number, pos: number, from = 0, to = this.layers.length): GPUComputePassEncoder {
    const { buf, config } = this;
    const kvBytes = 4 * config.headCountKv * config.headDim;
    let pass = encoder.beginComputePass({ label: 'embedding' });
    if (from === 0) for (const d of this.embed) run(pass, d, n);
    // By index: a slice (or entries()' pairs) would allocate every decode step.
    for (let l = from; l < to; l++) {
      const L = this.layers[l]!;
      for (let i = 0; i < L.dispatches.length; i++) {
        const d = L.dispatches[i]!;
        if (i === L.copyAfter) { // after norm, q/k/v, q/k norm, rope
          pass.end();
          encoder.copyBufferToBuffer(buf.k, 0, L.kCache, pos * kvBytes, n * kvBytes); // kCache[pos..pos+n) = k
          encoder.copyBufferToBuffer(buf.v, 0, L.vCache, pos * kvBytes, n * kvBytes); // vCache[pos..pos+n) = v
          pass = encoder.beginComputePass({ label: 'layer' });
        }
        run(pass, d, n); // attention, output projection, FFN, residuals
      }
    }
    return pass;
  }

  /**
   * Embedding models (ModelOptions.embeddings): one pass over `tokens` (at most batchSize: several sequences packed
   * one after another), token t at position seqs[4t] attending to batch positions [seqs[4t + 1], seqs[4t + 2]).
   * Returns the final hidden states of the batch positions `rows` [rows.length, dim], in that order. The layers
   * are cut into submits as a prefill pass's are; the last group's submit adds the final norm and the readback.
   */
  async hidden(tokens: readonly number[], seqs: Uint32Array<ArrayBuffer>, rows: readonly number[]): Promise<Float32Array> {
    const { device, buf, config } = this;
    if (!buf.seqs || !buf.hiddenReadback) throw new Error('hidden(): the model was not created for embeddings');
    if (tokens.length > this.batchSize || seqs.length !== 4 * tokens.length) throw new Error(`hidden(): ${tokens.length} tokens for a batch of ${this.batchSize}`);
    const readback = buf.hiddenReadback;
    this.writeInputs(tokens, 0);
    device.queue.writeBuffer(buf.seqs, 0, seqs);
    const rowBytes = 4 * config.embeddingLength;
    const groups = this.submitLayerGroups(tokens.length, 0, `embeddings ${tokens.length}`, (encoder, pass) => {
      for (const d of this.final) run(pass, d, tokens.length);
      pass.end();
      // Runs of consecutive rows are copied at once (mean pooling reads every row).
      for (let i = 0; i < rows.length;) {
        let j = i + 1;
        while (j < rows.length && rows[j] === rows[j - 1]! + 1) j++;
        encoder.copyBufferToBuffer(buf.hidden, rows[i]! * rowBytes, readback, i * rowBytes, (j - i) * rowBytes);
        i = j;
      }
    });
    while (!groups.next().done);
    await readback.mapAsync(GPUMapMode.READ, 0, Math.max(4, rows.length * rowBytes));
    const out = new Float32Array(readback.getMappedRange(0, Math.max(4, rows.length * rowBytes)).slice(0, rows.length * rowBytes));
    readback.unmap();
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
    if (output === 'token') return this.submitStep(token, pos, picker).read();
    const { device, buf, config } = this;
    this.writeInputs([token], pos);
    const encoder = this.encodeStep(pos, output);
    if (output === 'logits') encoder.copyBufferToBuffer(buf.logits, 0, buf.logitsReadback, 0, buf.logitsReadback.size);
    device.queue.submit([encoder.finish()]);
    if (output === 'logits') {
      await buf.logitsReadback.mapAsync(GPUMapMode.READ);
      const logits = new Float32Array(buf.logitsReadback.getMappedRange().slice(0, 4 * config.vocabSize));
      buf.logitsReadback.unmap();
      return logits;
    }
  }

  /**
   * Submits a decode step (one encoder, one submit) that picks the next token, and returns at once: its id is
   * read when asked. `token` 'previous' feeds the id the last step picked, straight from the GPU's token buffer,
   * so a decode loop submits step N + 1 before it reads step N's id and the GPU never waits for the host between
   * tokens. Each step's id is copied into the other of two readback buffers: a step may be submitted while the
   * one before is being read, not while the one two before still is (read() it and await that first).
   */
  submitStep(token: number | 'previous', pos: number, picker?: TokenPicker): PendingToken {
    const { device, buf } = this;
    const readback = this.tokenReadbacks[this.nextReadback]!;
    if (this.reading.has(readback)) throw new Error(`submitStep(${pos}): the id of the step two before is still being read; await its read() first`);
    this.nextReadback ^= 1;
    if (token === 'previous') device.queue.writeBuffer(buf.step, 0, new Uint32Array([pos])); // the id is on the GPU already
    else this.writeInputs([token], pos);
    const encoder = this.encodeStep(pos, 'token', picker);
    encoder.copyBufferToBuffer(buf.token, 0, readback, 0, 4);
    device.queue.submit([encoder.finish()]);
    let id: Promise<number> | undefined;
    return { read: () => (id ??= this.readToken(readback)) };
  }

  /** Records a one-token step at `pos`: embedding, layers and, unless 'none', the head and the pick into token[0]. */
  private encodeStep(pos: number, output: StepOutput, picker?: TokenPicker): GPUCommandEncoder {
    const encoder = this.device.createCommandEncoder({ label: `step ${pos}` });
    const pass = this.encodeLayers(encoder, 1, pos);
    if (output !== 'none') for (const d of this.head) run(pass, d);
    if (output === 'token' && picker) for (const d of picker.dispatches) run(pass, d);
    else if (output === 'token') for (const d of this.argmax) run(pass, d);
    pass.end();
    picker?.afterPass?.(encoder);
    return encoder;
  }

  private async readToken(readback: GPUBuffer): Promise<number> {
    this.reading.add(readback);
    try {
      await readback.mapAsync(GPUMapMode.READ);
      const id = new Uint32Array(readback.getMappedRange())[0]!;
      readback.unmap();
      return id;
    } finally {
      this.reading.delete(readback);
    }
  }
}
