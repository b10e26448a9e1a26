// llama.cpp as the reference engine in tests, through node-llama-cpp's prebuilt CPU binaries (pinned 3.21.1).
//
// Raw logits: node-llama-cpp has no call that returns llama_get_logits_ith. What its addon does return is
// AddonContext.sampleToken(i, sampler, true): the whole vocabulary as (token, probability) pairs, where the
// probabilities are a float32 softmax of the candidates' logits AFTER the sampler chain. From those:
//   1. a plain greedy sampler gives d_i = ln(p_i / p_top) = l_i − l_top: every logit relative to the largest
//      (exact up to float32 rounding, ~1e-6; −Infinity where exp underflowed, i.e. l_i < l_top − ~87);
//   2. a second sampler with a repeat penalty r on the top token only changes that token's logit, and in a
//      sign-dependent way (llama.cpp: l > 0 ? l / r : l · r). The shift it causes, measured against the
//      unpenalized tokens, gives l_top itself: l_top = Δ / (1/r − 1) if Δ < 0, else Δ / (r − 1).
// So logits = l_top + d, the raw values llama.cpp computed, to a few 1e-6 (checked against llamacpp_logits_bos/,
// which was written from llama_get_logits_ith directly; see test/oracle-llama.test.ts).
//
// What llama.cpp computes is not always f32 math: its KV cache is f16 by default (here f32 unless asked), and
// quantized matmuls quantize the activations to 8 bits, which moves stories260K's Q8_0/Q4_0 BOS logits by
// 0.14–0.2 from a dequantize-then-f32 reference (measured). For quantized files, compare with a tolerance of
// that order, or use the shared dequant_f32_refs for exact checks.
//
// The addon classes are used directly (Llama._bindings is internal, hence the pin): one sequence, prompt in
// one batch, CPU only, 1 thread (deterministic), no flash attention.
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { acquireDevice } from '../../src/gpu/device';
import { createEngine } from '../../src/index';
import { loadModel } from '../../src/model/load';

export interface OracleOptions {
  /** KV cells (default min(n_ctx_train, 1024)); a prompt plus its steps must fit. */
  contextSize?: number;
  /** CPU threads (default 1: results do not depend on scheduling). */
  threads?: number;
  /**
   * KV cache element type. 'f32' (default) keeps attention in f32, as Hearth does; 'f16' is llama.cpp's own
   * default (what the shared llamacpp_* reference files were made with).
   */
  kvCacheType?: 'f32' | 'f16';
  /** llama.cpp's fused attention kernel (default false; llama.cpp's own default 'auto' turns it on for the CPU). */
  flashAttention?: boolean;
}

export interface GreedyOptions {
  /** Reconstruct each step's raw logits (default true; two extra vocabulary-sized samplings per step). */
  logits?: boolean;
  /** Stop after the first end-of-generation token, which is included in `ids` (default false). */
  stopAtEog?: boolean;
  /**
   * Teacher forcing: after step s feed forcedIds[s] instead of llama.cpp's pick (`ids` still holds the picks),
   * so logits come from given contexts, e.g. another model's greedy path.
   */
  forcedIds?: number[];
}

export interface GreedyResult {
  /** Generated ids, one per step, as llama.cpp's greedy sampler picked them. */
  ids: number[];
  /** logits[s]: the full-vocabulary logits ids[s] was picked from (position promptIds.length − 1 + s). */
  logits: Float32Array[];
}

export interface Oracle {
  readonly path: string;
  readonly vocabSize: number;
  /** −1 where the vocabulary has none. */
  readonly bosId: number;
  readonly eosId: number;
  /** Whether llama.cpp puts BOS before a text prompt (the file's tokenizer.ggml.add_bos_token, or its default). */
  readonly addsBos: boolean;
  /** llama.cpp's tokenizer (common_tokenize, special tokens not parsed), BOS first when asked. */
  tokenize(text: string, addBos: boolean): number[];
  /** llama.cpp's text for `ids` (llama_detokenize: control tokens as '', no space stripping). */
  detokenize(ids: number[]): string;
  isEog(id: number): boolean;
  /** Greedy decoding from an empty context: the prompt in one batch, then one token per step. */
  greedy(promptIds: number[], nSteps: number, options?: GreedyOptions): Promise<GreedyResult>;
  /** The raw logits after `ids` (fed in one batch from position 0). */
  logitsAfter(ids: number[]): Promise<Float32Array>;
  close(): Promise<void>;
}

// The subset of node-llama-cpp's addon (dist/bindings/AddonTypes.d.ts) used here.
interface AddonModel {
  init(): Promise<boolean>; dispose(): Promise<void>;
  tokenize(text: string, specialTokens: boolean): Uint32Array;
  detokenize(tokens: Uint32Array, specialTokens?: boolean): string;
  tokenBos(): number; tokenEos(): number; shouldPrependBosToken(): boolean; isEogToken(id: number): boolean; getTrainContextSize(): number;
}
interface AddonContext {
  init(): Promise<boolean>; dispose(): Promise<void>;
  initBatch(size: number): void;
  addToBatch(seq: number, firstPos: number, tokens: Uint32Array, logitIndexes: Uint32Array): Uint32Array;
  decodeBatch(): Promise<void>;
  disposeSequence(seq: number): void;
  sampleToken(batchLogitIndex: number, sampler: AddonSampler, probabilities: true): Promise<[number, number[] | undefined]>;
}
interface AddonSampler { applyConfig(config: Record<string, unknown>): void; dispose(): void }
interface Bindings {
  AddonModel: new (path: string, params: Record<string, unknown>) => AddonModel;
  AddonContext: new (model: AddonModel, params: Record<string, unknown>) => AddonContext;
  AddonSampler: new (model: AddonModel) => AddonSampler;
}

/** One llama.cpp runtime per process (loading the backends takes ~1.5 s); see closeLlamaCpp. */
let llamaPromise: Promise<Llama> | undefined;

/** llama.cpp's recent warnings and errors, quoted in the oracle's own errors (why a file did not load). */
const recentLog: string[] = [];

export function llamaCpp(): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.warn,
    logger: (_level, message) => { recentLog.push(message.trim()); if (recentLog.length > 8) recentLog.shift(); },
  });
  return llamaPromise;
}

function oracleError(what: string): Error {
  const log = recentLog.splice(0).filter(Boolean);
  return new Error(`llama.cpp oracle: ${what}${log.length ? `; llama.cpp said: ${log.join(' | ')}` : ''}`);
}

/** Releases the shared llama.cpp runtime (after the last oracle is closed; the process exits without it too). */
export async function closeLlamaCpp(): Promise<void> {
  const p = llamaPromise;
  llamaPromise = undefined;
  // A load that failed (in a before()) has nothing to dispose; its error was reported where it happened.
  if (p) await p.then((llama) => llama.dispose(), () => {});
}

/** ggml_type enum values (ggml.h). */
const GGML_TYPE = { f32: 0, f16: 1 } as const;

/** Repeat penalty used to find the top token's absolute logit (any r ≠ 1 works; 2 keeps the shift small and exact). */
const ANCHOR_PENALTY = 2;

export async function openOracle(path: string, options: OracleOptions = {}): Promise<Oracle> {
  const bindings = (await llamaCpp() as unknown as { _bindings: Bindings })._bindings;
  const model = new bindings.AddonModel(path, { addonExports: bindings, gpuLayers: 0, useMmap: true });
  recentLog.length = 0;
  if (!(await model.init())) throw oracleError(`could not load ${path}`);
  const kvType = GGML_TYPE[options.kvCacheType ?? 'f32'];
  const contextSize = options.contextSize ?? Math.min(model.getTrainContextSize(), 1024);
  const ctx = new bindings.AddonContext(model, {
    contextSize, batchSize: contextSize, sequences: 1, threads: options.threads ?? 1,
    flashAttention: options.flashAttention ?? false, kvCacheKeyType: kvType, kvCacheValueType: kvType,
  });
  if (!(await ctx.init())) { await model.dispose(); throw oracleError(`could not create a context for ${path}`); }
  const greedySampler = new bindings.AddonSampler(model);
  greedySampler.applyConfig({ temperature: 0 });
  let vocabSize = 0;
  let closed = false;

  const decode = async (tokens: number[], firstPos: number): Promise<number> => {
    if (firstPos + tokens.length > contextSize) throw new Error(`llama.cpp oracle: ${firstPos + tokens.length} positions exceed contextSize ${contextSize}`);
    ctx.initBatch(tokens.length);
    const [logitIndex] = ctx.addToBatch(0, firstPos, Uint32Array.from(tokens), Uint32Array.of(tokens.length - 1));
    await ctx.decodeBatch();
    return logitIndex!;
  };

  /** Samples at `logitIndex` with `sampler`: the picked id and ln(p_i / p_top) for every token. */
  const relativeLogits = async (logitIndex: number, sampler: AddonSampler) => {
    const [token, pairs] = await ctx.sampleToken(logitIndex, sampler, true);
    if (!pairs || pairs.length === 0) throw new Error('llama.cpp oracle: the sampler returned no probabilities');
    vocabSize ||= pairs.length / 2;
    const rel = new Float64Array(pairs.length / 2).fill(-Infinity); // token id → ln(p / p_top)
    const top = pairs[1]!; // pairs are sorted by logit, highest first
    for (let i = 0; i < pairs.length; i += 2) rel[pairs[i]!] = Math.log(pairs[i + 1]! / top);
    return { token, topToken: pairs[0]!, rel };
  };

  /** The raw logits at `logitIndex` (see the file comment) and llama.cpp's greedy pick. */
  const rawLogits = async (logitIndex: number) => {
    const plain = await relativeLogits(logitIndex, greedySampler);
    const anchor = plain.topToken;
    const penalized = new bindings.AddonSampler(model);
    try {
      penalized.applyConfig({ temperature: 0, repeatPenaltyTokens: Uint32Array.of(anchor), repeatPenalty: ANCHOR_PENALTY, repeatPenaltyMaxTokens: 1 });
      const shifted = await relativeLogits(logitIndex, penalized);
      // Unpenalized tokens keep their logits, so shifted.rel − plain.rel is one constant c for all of them;
      // average it over the best-conditioned ones (closest to the top: smallest float32 rounding).
      const others = Array.from(plain.rel.keys())
        .filter((i) => i !== anchor && Number.isFinite(plain.rel[i]!) && Number.isFinite(shifted.rel[i]!))
        .sort((a, b) => plain.rel[b]! - plain.rel[a]!)
        .slice(0, 16);
      if (others.length === 0 || !Number.isFinite(shifted.rel[anchor]!)) {
        throw new Error('llama.cpp oracle: cannot anchor the logits: the top token is > 87 above all others or the penalty pushed it that far (a one-hot output)');
      }
      const c = others.reduce((s, i) => s + (shifted.rel[i]! - plain.rel[i]!), 0) / others.length;
      const delta = shifted.rel[anchor]! - plain.rel[anchor]! - c; // penalized logit − logit of the anchor
      const top = delta < 0 ? delta / (1 / ANCHOR_PENALTY - 1) : delta / (ANCHOR_PENALTY - 1);
      return { token: plain.token, logits: Float32Array.from(plain.rel, (d) => top + d) };
    } finally {
      penalized.dispose();
    }
  };

  const greedy = async (promptIds: number[], nSteps: number, opts: GreedyOptions = {}): Promise<GreedyResult> => {
    if (closed) throw new Error('llama.cpp oracle is closed');
    if (promptIds.length === 0) throw new Error('llama.cpp oracle: the prompt needs at least one token');
    ctx.disposeSequence(0); // empty KV cache: every call starts at position 0
    const ids: number[] = [];
    const logits: Float32Array[] = [];
    let logitIndex = await decode(promptIds, 0);
    for (let s = 0; s < nSteps; s++) {
      let token: number;
      if (opts.logits ?? true) {
        const r = await rawLogits(logitIndex);
        token = r.token;
        logits.push(r.logits);
      } else {
        token = (await ctx.sampleToken(logitIndex, greedySampler, true))[0];
      }
      if (token < 0) throw new Error('llama.cpp oracle: the greedy sampler picked no token');
      ids.push(token);
      if ((opts.stopAtEog && model.isEogToken(token)) || s === nSteps - 1) break;
      logitIndex = await decode([opts.forcedIds?.[s] ?? token], promptIds.length + s);
    }
    return { ids, logits };
  };

  // The vocabulary size is only known after a first sampling; do one now so the oracle can report it.
  try {
    await greedy([Math.max(model.tokenBos(), 0)], 1, { logits: false });
  } catch (e) {
    greedySampler.dispose();
    await ctx.dispose();
    await model.dispose();
    throw e;
  }

  return {
    path,
    get vocabSize() { return vocabSize; },
    bosId: model.tokenBos(),
    eosId: model.tokenEos(),
    addsBos: model.shouldPrependBosToken(),
    tokenize: (text, addBos) => [...(addBos && model.tokenBos() >= 0 ? [model.tokenBos()] : []), ...model.tokenize(text, false)],
    detokenize: (ids) => model.detokenize(Uint32Array.from(ids), false),
    isEog: (id) => model.isEogToken(id),
    greedy,
    logitsAfter: async (ids) => (await greedy(ids, 1)).logits[0]!,
    close: async () => {
      if (closed) return;
      closed = true;
      greedySampler.dispose();
      await ctx.dispose();
      await model.dispose();
    },
  };
}

// ——— Hearth against the oracle ———

export interface CompareOptions {
  /** Hearth's arithmetic (LoadOptions.precision); default 'f32', the path held to llama.cpp's f32 logits. */
  precision?: 'auto' | 'f16' | 'f32';
  /** Hearth's KV cache (LoadOptions.kvCache); default 'f32', as the oracle's default. */
  kvCache?: 'f16' | 'f32';
  /** Prompt ids, BOS included when wanted; default: llama.cpp's tokenization of `prompt`, BOS as the file says. */
  promptIds?: number[];
  /** Prompt text: also runs Hearth's public engine (createEngine → generate) and checks both tokenizers agree. */
  prompt?: string;
  steps: number;
  /** Step s passes when max_i |hearth_i − llama.cpp_i| ≤ abs + rel · max_i |llama.cpp_i| (default abs 0, rel 1e-4). */
  logitTolerance?: { abs?: number; rel?: number };
  oracle?: OracleOptions;
}

export interface StepReport {
  step: number;
  /** Position of the token whose logits these are. */
  pos: number;
  /** llama.cpp's greedy pick, and Hearth's argmax over its own logits for the same context. */
  oracleToken: number;
  hearthToken: number;
  maxAbsDiff: number;
  /** Token where |hearth − llama.cpp| is largest. */
  worstToken: number;
  maxAbsLogit: number;
  /** The bound maxAbsDiff is held to at this step. */
  bound: number;
  /** llama.cpp's top-1 minus top-2 logit: greedy is only robust where this clearly exceeds 2 · bound. */
  margin: number;
}

export interface CompareReport {
  path: string;
  promptIds: number[];
  /** llama.cpp greedy. */
  oracleIds: number[];
  /** Hearth free-running greedy: LlamaModel.step(…, 'token'), argmax on the GPU. */
  hearthIds: number[];
  /** Hearth's public engine from `prompt` text (cut at its first end-of-generation token), when a prompt was given. */
  engine?: { promptIds: number[]; ids: number[]; expectedIds: number[]; finishReason: string };
  /** Per step, Hearth fed llama.cpp's tokens (teacher forcing): logits of the same contexts. */
  perStep: StepReport[];
  /** The full-vocabulary logits behind perStep, for checks of your own. */
  logits: { oracle: Float32Array[]; hearth: Float32Array[] };
  maxAbsDiff: number;
  /** max over steps of maxAbsDiff / maxAbsLogit. */
  maxRelDiff: number;
  minMargin: number;
  /** Smallest margin / (2 · bound) over the steps: > 1 means logits within tolerance imply identical greedy picks. */
  marginRatio: number;
  idsEqual: boolean;
  withinTolerance: boolean;
  ms: { oracle: number; hearth: number; engine: number };
}

/**
 * Runs llama.cpp (CPU, f32 KV cache) and Hearth on one GGUF: greedy ids both ways, per-step logits of the
 * same contexts, and, given prompt text, Hearth's public engine. Architecture- and type-agnostic: anything
 * both engines load. Returns a report; assert on it (see formatReport for a readable summary).
 */
export async function compareWithLlamaCpp(path: string, options: CompareOptions): Promise<CompareReport> {
  const { steps, prompt } = options;
  const rel = options.logitTolerance?.rel ?? 1e-4;
  const abs = options.logitTolerance?.abs ?? 0;

  let t = performance.now();
  const oracle = await openOracle(path, options.oracle);
  let promptIds: number[];
  let reference: GreedyResult;
  let firstEog: number;
  try {
    promptIds = options.promptIds ?? (prompt !== undefined ? oracle.tokenize(prompt, oracle.addsBos) : [oracle.bosId]);
    reference = await oracle.greedy(promptIds, steps);
    firstEog = reference.ids.findIndex((id) => oracle.isEog(id));
  } finally {
    await oracle.close();
  }
  const oracleMs = performance.now() - t;

  t = performance.now();
  const gpu = await acquireDevice();
  const hearthLogits: Float32Array[] = [];
  const hearthIds: number[] = [];
  try {
    const loaded = await loadModel(gpu, path, { contextLength: promptIds.length + steps, precision: options.precision ?? 'f32', kvCache: options.kvCache ?? 'f32' });
    try {
      const { model } = loaded;
      // Teacher forcing: the contexts llama.cpp's logits came from.
      const forced = [...promptIds, ...reference.ids];
      for (let pos = 0; pos < promptIds.length - 1 + steps; pos++) {
        if (pos < promptIds.length - 1) await model.step(forced[pos]!, pos, 'none');
        else hearthLogits.push(await model.step(forced[pos]!, pos, 'logits'));
      }
      // Free-running greedy (positions from 0 again overwrite the KV cache).
      for (let pos = 0; pos < promptIds.length - 1; pos++) await model.step(promptIds[pos]!, pos, 'none');
      let token = promptIds[promptIds.length - 1]!;
      for (let s = 0; s < steps; s++) {
        token = await model.step(token, promptIds.length - 1 + s, 'token');
        hearthIds.push(token);
      }
    } finally {
      loaded.destroy();
    }
  } finally {
    gpu.device.destroy();
  }
  const hearthMs = performance.now() - t;

  t = performance.now();
  let engineReport: CompareReport['engine'];
  if (prompt !== undefined) {
    const engine = await createEngine(path, { contextLength: promptIds.length + steps, precision: options.precision ?? 'f32', kvCache: options.kvCache ?? 'f32' });
    try {
      const result = await engine.generate(prompt, { maxTokens: steps }).result;
      const expectedIds = firstEog < 0 ? reference.ids : reference.ids.slice(0, firstEog);
      engineReport = { promptIds: result.promptTokens, ids: result.tokens, expectedIds, finishReason: result.finishReason };
    } finally {
      await engine.dispose();
    }
  }
  const engineMs = performance.now() - t;

  const perStep = reference.logits.map((ref, step) => compareStep(step, promptIds.length - 1 + step, reference.ids[step]!, ref, hearthLogits[step]!, abs, rel));
  const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return {
    path, promptIds, oracleIds: reference.ids, hearthIds, engine: engineReport, perStep,
    logits: { oracle: reference.logits, hearth: hearthLogits },
    maxAbsDiff: max(perStep.map((r) => r.maxAbsDiff)),
    maxRelDiff: max(perStep.map((r) => r.maxAbsDiff / r.maxAbsLogit)),
    minMargin: Math.min(...perStep.map((r) => r.margin)),
    marginRatio: Math.min(...perStep.map((r) => r.margin / (2 * r.bound))),
    idsEqual: same(hearthIds, reference.ids) && (!engineReport || (same(engineReport.promptIds, promptIds) && same(engineReport.ids, engineReport.expectedIds))),
    withinTolerance: perStep.every((r) => r.maxAbsDiff <= r.bound),
    ms: { oracle: oracleMs, hearth: hearthMs, engine: engineMs },
  };
}

/** One step's logits against llama.cpp's: largest difference, bound abs + rel·max|logit|, llama.cpp's top-2 margin. */
export function compareStep(step: number, pos: number, oracleToken: number, ref: Float32Array, got: Float32Array, abs: number, rel: number): StepReport {
  if (got.length !== ref.length) throw new Error(`vocabulary sizes differ: Hearth ${got.length}, llama.cpp ${ref.length}`);
  let maxAbsLogit = 0, maxAbsDiff = 0, worstToken = -1, top1 = -Infinity, top2 = -Infinity, hearthToken = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    if (r > top1) { top2 = top1; top1 = r; } else if (r > top2) top2 = r;
    if (got[i]! > got[hearthToken]!) hearthToken = i;
    if (Number.isFinite(r)) maxAbsLogit = Math.max(maxAbsLogit, Math.abs(r));
  }
  for (let i = 0; i < ref.length; i++) {
    // −Infinity: exp underflowed in llama.cpp's softmax, so only "more than ~87 below the top" is known.
    const d = Number.isFinite(ref[i]!) ? Math.abs(got[i]! - ref[i]!) : got[i]! < top1 - 80 ? 0 : Infinity;
    if (!(d <= maxAbsDiff)) { maxAbsDiff = d; worstToken = i; }
  }
  return { step, pos, oracleToken, hearthToken, maxAbsDiff, worstToken, maxAbsLogit, bound: abs + rel * maxAbsLogit, margin: top1 - top2 };
}

/** One line per report: the numbers a failing assertion should show. */
export function formatReport(r: CompareReport): string {
  const worst = r.perStep.reduce((a, b) => (b.maxAbsDiff / b.bound > a.maxAbsDiff / a.bound ? b : a));
  return `${r.path.split('/').pop()}: ids ${r.idsEqual ? 'equal' : 'DIFFER'} (${r.oracleIds.length} steps), ` +
    `max |Δlogit| ${r.maxAbsDiff.toExponential(2)} (rel ${r.maxRelDiff.toExponential(2)}; worst step ${worst.step}: ` +
    `${worst.maxAbsDiff.toExponential(2)} at token ${worst.worstToken}, bound ${worst.bound.toExponential(2)}), ` +
    `min top-2 margin ${r.minMargin.toFixed(4)} (${r.marginRatio.toFixed(0)}× 2·bound), ` +
    `ms llama.cpp ${r.ms.oracle.toFixed(0)} Hearth ${r.ms.hearth.toFixed(0)} engine ${r.ms.engine.toFixed(0)}`;
}
