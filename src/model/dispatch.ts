// Prebuilt compute dispatches: a pipeline (specialised with override constants, compiled once per
// distinct specialisation), its bind group over fixed buffers, and its grid as a function of how many
// tokens the pass runs (1 when decoding, up to the batch capacity in a prefill). Everything here runs at
// load; a forward pass only replays the dispatches.
import { ResourceError } from '../errors';
import { formatBytes } from '../gpu/buffers';
import { headArgmaxParts, KernelCache, workgroupGrid, workgroups } from '../gpu/kernels';
import { weightByteLength } from '../gpu/quant-types';
import { alignedBufferBytes } from '../gpu/aligned-weights';
import { kvCacheKernels, q8WeightTypes, weightKernels, type KernelName, type EntryPoint, type KvCacheType, type ModelPrecision, type ProductEntryPoint, type WeightDType } from '../gpu/shaders';
import { laneRun, type MatmulKernel, type MatvecKernel } from '../gpu/profile';
import type { Matrix, Norm, Projections } from './layer';
import { qkvInTwoMatrices, stackRanges } from './memory';

/** Workgroups (x, y) of a dispatch for a pass over `tokens` tokens. */
export type Grid = (tokens: number) => readonly [number, number];

/** The same grid whatever the token count (kernels that only ever see one token: the output head). */
const fixedGrid = (x: number): Grid => () => [x, 1];
/** x workgroups per token, one token per y (embedding, rope, attention: the kernel reads gid.y). */
export const tokenGrid = (x: number): Grid => (tokens) => [x, tokens];
/** One workgroup per row of each token (norms over [tokens, rows, n]). */
const rowGrid = (rows: number): Grid => (tokens) => [tokens * rows, 1];
/** One thread per element of `len` elements per token (elementwise kernels over [tokens, len]). */
const elementGrid = (len: number): Grid => (tokens) => [workgroups(tokens * len), 1];

/**
 * A pipeline, its bind group and its grid: one prebuilt dispatch. `batched` replaces it when a pass runs
 * more than one token (a matrix-vector product becomes a matrix-matrix product). Made by a Dispatcher, it has
 * its pipeline and bind group once the Dispatcher's ready() has resolved.
 */
export interface Dispatch { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; grid: Grid; batched?: Dispatch }

/** Records `d` for a pass over `tokens` tokens; a grid with no workgroups (a dispatch only some passes run) records nothing. */
export function run(pass: GPUComputePassEncoder, d: Dispatch, tokens = 1): void {
  const use = tokens > 1 && d.batched ? d.batched : d;
  const [x, y] = use.grid(tokens);
  if (x === 0 || y === 0) return;
  pass.setPipeline(use.pipeline);
  pass.setBindGroup(0, use.bindGroup);
  pass.dispatchWorkgroups(x, y);
}

/** Tokens per matmul.wgsl thread (its TILE): a prefill batch holds a whole number of tiles. */
const MATMUL_TILE = 4;
/** Tokens per matmul-tiled.wgsl workgroup (its TILE; it reads the batch's capacity from x, so any batch works). */
const TILED_MATMUL_TOKENS = 64;


/** RMSNorm fused into the kernel that reads its output: the norm's weight [cols] and epsilon (common/rms.wgsl). */
export interface FusedNorm { weight: GPUBuffer; eps: number }

export interface ProductOptions {
  /** Also make the matrix-matrix form, for passes over several tokens (default true; false for the output head). */
  batched?: boolean;
  /** Make the one-token form (default true); false: only the matrix-matrix form, which one-token passes skip. */
  oneToken?: boolean;
  /**
   * The one-token main_qkv only (batched false): a matrix of another type that holds the product's last
   * `second.rows` rows, read through its own type (main_qkv_mixed); the product's buffer holds the rows before.
   */
  second?: Matrix;
  /** The input quantized (quantizeQ8), read instead of it when readsQ8(m). */
  xq?: GPUBuffer;
  /** Norm the input on the fly (the float products; the 8-bit ones read xq, which quantizeQ8 normed). */
  norm?: FusedNorm;
  /**
   * The bias added in the epilogue: stackedQkv's [Σ rows] (common/products.wgsl's BIAS); matvec's [rows], out = W x + b
   * (its entry point main_bias), before GELU or RESIDUAL.
   */
  bias?: GPUBuffer | null;
  /** matvec: out += W x (+ b), the residual add in the epilogue (RESIDUAL), instead of out = W x. */
  residual?: boolean;
  /** matvec: out = gelu(W x (+ b)), the ungated FFN's activation in the epilogue (GELU). */
  gelu?: boolean;
  /**
   * matvec of the output head (one token, fusesArgmax): also each workgroup's (max, index) into this buffer, the
   * partials argmax.wgsl's finish reduces (common/matvec-lanes.wgsl's main_argmax; headArgmaxParts of them).
   */
  argmax?: GPUBuffer;
}

/** What stackedQkv's epilogue does besides the bias (common/products.wgsl's ROPE and KV_CACHE). */
export interface QkvEpilogue {
  /** The pass's first position, { pos: u32 } (a uniform), which rope and the cache rows read. */
  step: GPUBuffer;
  /** q and k rotated by position: rope.wgsl's cos/sin table, its rotated dims and style; heads of headDim. */
  rope?: { table: GPUBuffer; dim: number; neox: boolean; headDim: number };
  /** k and v written straight into the layer's caches (the k and v buffers are then these), [rows, kvRows]. */
  cacheRows?: number;
}

type Binding = GPUBuffer | GPUBufferBinding | null;

/** The gated FFN's activation in a stacked [gate; up] product (common/products.wgsl's ACT). */
export type GatedActivation = 'swiglu' | 'geglu';

/** An override set only when on (so that kernels without the epilogue keep their pipelines' constants). */
const flag = (name: string, on: boolean): Record<string, number> => (on ? { [name]: 1 } : {});

/** The kernel of the one-token float products for each AdapterProfile.matvec. */
const ONE_TOKEN_KERNELS = { rows: 'matvec', subgroup: 'matvec-subgroup', workgroup: 'matvec-workgroup' } as const satisfies Record<MatvecKernel, KernelName>;
/**
 * The kernel of the one-token 8-bit-activation products (precision 'q8') for each AdapterProfile.matvec: the same
 * walk and reduction as the float ones (common/matvec-q8-lanes.wgsl under the lane reductions), or matvec-q8.wgsl.
 */
const ONE_TOKEN_Q8_KERNELS = { rows: 'matvec-q8', subgroup: 'matvec-q8-subgroup', workgroup: 'matvec-q8-workgroup' } as const satisfies Record<MatvecKernel, KernelName>;
/** The one-token kernels whose 64 lanes share four rows (common/matvec-lanes.wgsl): they have main_argmax. */
const LANE_KERNELS: ReadonlySet<KernelName> = new Set<KernelName>(['matvec-subgroup', 'matvec-workgroup']);
/** Binding of main_argmax's partials (after products.wgsl's 4–8). */
const ARGMAX_BINDING = 9;
/** Binding of main_qkv_mixed's second matrix (common/lane-qkv-mixed.wgsl): with the 8 of main_qkv, 9 storage buffers. */
const SECOND_MATRIX_BINDING = 10;
const MIXED_QKV_STORAGE_BUFFERS = 9;

/** The kernels a Dispatcher makes, chosen once at load. */
export interface DispatcherOptions {
  /**
   * The largest storage binding to use (the device's where unset or larger; tests lower it to exercise row-block
   * splitting): matrices above it are bound in row blocks.
   */
  bindingLimit?: number;
  /** The arithmetic of every weight-reading kernel. Default 'f32'. */
  precision?: ModelPrecision;
  /** The kernel of the one-token float products (AdapterProfile.matvec; 'subgroup' needs the device feature 'subgroups'). Default 'rows'. */
  matvec?: MatvecKernel;
  /** The lane kernels' longest run (AdapterProfile.laneSteps; laneRun lowers it per matrix). Default 1. */
  laneSteps?: number;
  /** The kernel of the batched float products (AdapterProfile.matmul: 'tiled' needs 17 KiB workgroups). Default 'rows'. */
  matmul?: MatmulKernel;
  /**
   * The KV cache's element type ('f16' needs the device feature 'shader-f16'), which the kernels that read or write
   * the cache are compiled for. Default 'f32'.
   */
  kvCache?: KvCacheType;
}

/** Makes the dispatches of the kernels in shaders/, buffers bound in binding order. */
export class Dispatcher {
  private readonly kernels: KernelCache;
  /** Largest storage binding; matrices above it are bound in row blocks. */
  readonly bindingLimit: number;

  /** Whether q4_0/q8_0 products run as integer dot products on 8-bit activations (precision 'q8'). */
  private readonly q8: boolean;
  /** Pipelines still compiling, each filling in its dispatches (see make and ready). */
  private readonly pending: Promise<void>[] = [];

  private readonly matvecKernel: MatvecKernel;
  private readonly laneSteps: number;
  private readonly matmul: MatmulKernel;
  readonly kvCache: KvCacheType;

  constructor(private readonly device: GPUDevice, { bindingLimit = device.limits.maxStorageBufferBindingSize, precision = 'f32', matvec = 'rows', laneSteps = 1, matmul = 'rows', kvCache = 'f32' }: DispatcherOptions = {}) {
    this.q8 = precision === 'q8';
    this.kernels = new KernelCache(device, precision === 'q8' ? 'f32' : precision);
    this.bindingLimit = Math.min(bindingLimit, device.limits.maxStorageBufferBindingSize);
    [this.matvecKernel, this.laneSteps, this.matmul, this.kvCache] = [matvec, laneSteps, matmul, kvCache];
  }

  /** Whether W x runs on 8-bit activations (matvec-q8): precision 'q8' and a q4_0 or q8_0 matrix. */
  readsQ8(m: Matrix): boolean {
    return this.q8 && q8WeightTypes.has(m.dtype);
  }

  /** Whether the one-token W x can write argmax partials in its epilogue (ProductOptions.argmax): a lane kernel's. */
  fusesArgmax(m: Matrix): boolean {
    return !this.readsQ8(m) && LANE_KERNELS.has(ONE_TOKEN_KERNELS[this.matvecKernel]);
  }

  /**
   * xq = the activations x [tokens, cols] quantized to 8 bits per block of 32 (cols a multiple of 32); with `norm`,
   * those of rmsnorm(x) · weight.
   */
  quantizeQ8(label: string, x: GPUBuffer, xq: GPUBuffer, cols: number, norm?: FusedNorm): Promise<Dispatch> {
    const normed: Record<string, number> = norm ? { NORM: 1, EPS: norm.eps } : {};
    return this.make(label, 'quantize-q8', { COLS: cols, ...normed }, tokenGrid(workgroups(cols / 32)), [x, xq, null, norm?.weight ?? x]);
  }

  /**
   * Binds `buffers` to bindings 0, 1, …: each a whole buffer, a range of one (a row block of a matrix), or null
   * for a binding number the kernel does not have. `entryPoint`: the kernel's, default 'main'.
   * Returns before the pipeline has compiled, so that a model's pipelines compile in parallel: the dispatch gets
   * its pipeline and bind group when it has, and is usable once `ready()` resolves.
   */
  async make(label: string, name: KernelName, constants: Record<string, number>, grid: Grid | number, buffers: (GPUBuffer | GPUBufferBinding | null)[], dtype?: WeightDType,
    entryPoint?: EntryPoint, secondDtype?: WeightDType): Promise<Dispatch> {
    const entries = buffers.flatMap((b, binding) => (b ? [{ binding, resource: 'buffer' in b ? b : { buffer: b } }] : []));
    for (const { resource: b } of entries) {
      const size = b.size ?? b.buffer.size - (b.offset ?? 0);
      if (size > this.bindingLimit) {
        throw new ResourceError(`${label}: ${b.buffer.label} needs a ${formatBytes(size)} GPU binding, but this device binds at most ${formatBytes(this.bindingLimit)}. Try a smaller or more quantized model.`);
      }
    }
    const dispatch = { grid: typeof grid === 'number' ? fixedGrid(grid) : grid } as Dispatch;
    // The cache's element type reaches the kernels that touch it: attention and kv-store always, a product only
    // when its epilogue writes the cache (otherwise its k and v outputs are f32 activations).
    const kvCache = kvCacheKernels.has(name) && (!weightKernels.has(name) || constants.KV_CACHE) ? this.kvCache : undefined;
    const made = this.kernels.get(name, { dtype, secondDtype, constants, entryPoint, kvCache }).then((pipeline) => {
      dispatch.pipeline = pipeline;
      dispatch.bindGroup = this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
    });
    made.catch(() => {}); // reported by ready(); never an unhandled rejection when loading stops early
    this.pending.push(made);
    return dispatch;
  }

  /** Resolves when every dispatch made so far has its pipeline and bind group; rejects with a failed compile. */
  async ready(): Promise<void> {
    await Promise.all(this.pending);
  }

  /**
   * Row blocks [start, start + rows) of `m` that each fit one binding, with byte offsets that meet the
   * device's offset alignment for both the weights and an f32 output (so blocks are multiples of 64 rows). Such an
   * offset starts an aligned layout's group too; the last block binds its last group whole.
   */
  rowBlocks(m: Matrix): { start: number; rows: number; byteOffset: number; byteLength: number }[] {
    const rowBytes = weightByteLength(m.dtype, m.cols);
    if (m.buffer.size <= this.bindingLimit) return [{ start: 0, rows: m.rows, byteOffset: 0, byteLength: m.buffer.size }];
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    let step = 64;
    while ((step * rowBytes) % align !== 0 || (step * 4) % align !== 0) step += 64;
    const blockRows = Math.floor(this.bindingLimit / rowBytes / step) * step;
    if (blockRows === 0) throw new ResourceError(`${m.buffer.label}: one block of ${step} rows is larger than this device's ${formatBytes(this.bindingLimit)} binding limit.`);
    const blocks = [];
    for (let start = 0; start < m.rows; start += blockRows) {
      const rows = Math.min(blockRows, m.rows - start);
      const byteOffset = start * rowBytes;
      blocks.push({ start, rows, byteOffset, byteLength: Math.min(Math.ceil(alignedBufferBytes(m.dtype, rows * rowBytes) / 4) * 4, m.buffer.size - byteOffset) });
    }
    return blocks;
  }

  /**
   * out = W x (+ `bias`), then gelu'd (`gelu`) or added to out (`residual`): one dispatch per row block (one in all
   * when W fits a binding), the bias's rows bound with the block's. Unless `batched` is false, each also gets its
   * matrix-matrix form for passes over several tokens, out[t] = W x[t] (input [tokens, cols], out [tokens, rows]).
   * When readsQ8(m), the product reads `xq` (the input's quantizeQ8 blocks) instead. With `argmax` (one token,
   * fusesArgmax) each block's workgroups also write their rows' argmax partials, at the block's slots of the whole head's.
   */
  matvec(label: string, m: Matrix, input: GPUBuffer, out: GPUBuffer, options: ProductOptions = {}): Promise<Dispatch[]> {
    const { bias, residual = false, gelu = false } = options;
    // The epilogue's exact store (common/products.wgsl's finished) needs an out of fewer than 2^29 elements.
    if ((bias || residual || gelu) && out.size >= 2 ** 31) throw new Error(`${label}: an epilogue's output must be under 2 GiB`);
    const blocks = this.rowBlocks(m);
    return Promise.all(blocks.map(({ start, rows, byteOffset, byteLength }) => {
      const rowsOf = (b: GPUBuffer): Binding => (blocks.length === 1 ? b : { buffer: b, offset: 4 * start, size: 4 * rows });
      const biasBindings = bias ? [null, null, rowsOf(bias)] : []; // main_bias's binding 6
      return this.product(blocks.length === 1 ? label : `${label} [rows ${start}+${rows}]`, { ...m, rows }, { buffer: m.buffer, offset: byteOffset, size: byteLength }, input,
        { one: [rowsOf(out), ...biasBindings], batched: [out, ...biasBindings] }, bias ? 'main_bias' : 'main',
        { OUT_STRIDE: m.rows, ROW_START: start, ...flag('RESIDUAL', residual), ...flag('GELU', gelu) }, options);
    }));
  }

  /**
   * q, k and v = the rows of a stacked [q; k; v] matrix times x (+ b), in one dispatch (main_qkv): qRows and kvRows
   * rows, v the rest, q and k rotated and k and v written into the caches when `epilogue` says so (k and v are then
   * the caches). Any part may be empty (qRows or kvRows 0, or no v rows): a matrix of some of the projections, whose
   * epilogue is the same; the outputs it has no rows of are bound (distinct buffers) but not written.
   */
  stackedQkv(label: string, m: Matrix, input: GPUBuffer, [q, k, v]: [GPUBuffer, GPUBuffer, GPUBuffer], qRows: number, kvRows: number, epilogue: QkvEpilogue, options: ProductOptions = {}): Promise<Dispatch> {
    const { rope, cacheRows, step } = epilogue;
    const unused = this.unused(m, input, options);
    const constants = {
      Q_ROWS: qRows, KV_ROWS: kvRows, ...flag('BIAS', !!options.bias),
      ...(rope ? { ROPE: rope.neox ? 2 : 1, HEAD_DIM: rope.headDim, ROT_DIM: rope.dim } : {}),
      ...(cacheRows ? { KV_CACHE: 1, CACHE_ROWS: cacheRows } : {}),
    };
    const outs = [q, k, v, options.bias ?? unused, rope?.table ?? unused, step];
    return this.product(label, m, this.wholeMatrix(label, m), input, { one: outs, batched: outs }, 'main_qkv', constants, options);
  }

  /**
   * Whether mixedQkv can run `p`, a [q; k; v] in two matrices of two types: the one-token products are the float
   * lane kernels, neither matrix reads 8-bit activations, both are bound whole, the second starts at a multiple of
   * 4 rows (a workgroup's rows in one matrix), and the device binds the 9 storage buffers of main_qkv_mixed.
   */
  mixesQkv(p: Projections): boolean {
    return qkvInTwoMatrices(p) && LANE_KERNELS.has(ONE_TOKEN_KERNELS[this.matvecKernel])
      && this.device.limits.maxStorageBuffersPerShaderStage >= MIXED_QKV_STORAGE_BUFFERS && p.matrices[0]!.rows % 4 === 0
      && p.matrices.every((m) => !this.readsQ8(m) && this.rowBlocks(m).length === 1);
  }

  /**
   * stackedQkv over both matrices of `p` (mixesQkv) in one one-token dispatch, main_qkv_mixed, whose bias (the first
   * matrix's, which the loader makes over all [q; k; v] rows) and epilogue are main_qkv's over the whole [q; k; v];
   * passes of several tokens run each matrix's batched main_qkv (the second's: a dispatch one-token passes skip).
   */
  async mixedQkv(label: string, p: Projections, input: GPUBuffer, outs: [GPUBuffer, GPUBuffer, GPUBuffer], epilogue: QkvEpilogue, options: ProductOptions): Promise<Dispatch[]> {
    const [first, second] = p.matrices as [Matrix, Matrix];
    const parts = options.batched ?? true ? await Promise.all(stackRanges(p.stacks).map(({ first: j, end }, i) => {
      const [qRows, kvRows] = [0, 1].map((r) => (r >= j && r < end ? p.rows[r]! : 0)) as [number, number];
      const m = p.matrices[i]!;
      return this.stackedQkv(`${label} [${m.dtype}]`, m, input, outs, qRows, kvRows, epilogue, { ...options, bias: p.biases[i], oneToken: false });
    })) : [];
    const whole = { ...first, rows: first.rows + second.rows };
    const mixed = await this.stackedQkv(label, whole, input, outs, p.rows[0]!, p.rows[1]!, epilogue, { ...options, bias: p.biases[0], batched: false, second });
    mixed.batched = parts[0];
    return [mixed, ...parts.slice(1)];
  }

  /** out = act(gate x) · (up x) for a stacked [gate; up] matrix, in one dispatch (main_glu): the gated FFN's input half. */
  stackedGlu(label: string, m: Matrix, input: GPUBuffer, out: GPUBuffer, activation: GatedActivation, options: ProductOptions = {}): Promise<Dispatch> {
    return this.product(label, m, this.wholeMatrix(label, m), input, { one: [out], batched: [out] }, 'main_glu', { ACT: activation === 'geglu' ? 1 : 0 }, options);
  }

  /** What a product binds where its entry point declares a buffer this load does not use: its (read-only) input. */
  private unused(m: Matrix, input: GPUBuffer, { xq }: ProductOptions): GPUBuffer {
    return this.readsQ8(m) ? xq! : input;
  }

  /** A stacked matrix is bound whole: the loader stacks only what fits a binding (projectionLayouts). */
  private wholeMatrix(label: string, m: Matrix): GPUBuffer {
    if (this.rowBlocks(m).length > 1) throw new Error(`${label}: a stacked matrix must fit one binding`);
    return m.buffer;
  }

  /**
   * One product dispatch (and its batched form): `outs` are the bindings from 2 (out) on, less the norm weight (3),
   * of the one-token form and of the batched form; `constants` those of the entry point beyond ROWS and COLS
   * (OUT_STRIDE and ROW_START only reach the batched main and main_bias, and with `argmax` the one-token main's epilogue).
   */
  private async product(label: string, m: Matrix, weights: GPUBuffer | GPUBufferBinding, input: GPUBuffer, outs: { one: Binding[]; batched: Binding[] },
    entry: ProductEntryPoint, constants: Record<string, number>, { batched = true, oneToken = true, xq, norm, argmax, second }: ProductOptions): Promise<Dispatch> {
    const q8 = this.readsQ8(m);
    if (q8 && !xq) throw new Error(`${label}: a q8 product needs the quantized activations`);
    if (argmax && (batched || entry !== 'main' || !this.fusesArgmax(m))) throw new Error(`${label}: the argmax epilogue is the one-token lane kernels' main's alone`);
    if (second && (batched || entry !== 'main_qkv' || q8)) throw new Error(`${label}: a second matrix is the one-token float main_qkv's alone`);
    // Rows (main_glu: outputs) per workgroup: 64 (32) for the thread-per-four-rows kernels, 4 (2) for those whose
    // lanes share rows; a huge output head (262144 rows: 65536 of those workgroups) gets a 2-D grid.
    const groupsOf = (rowsPerGroup: number) => (entry === 'main_glu' ? workgroups(m.rows / 2, rowsPerGroup / 2) : workgroups(m.rows, rowsPerGroup));
    const [single, multi] = q8 ? [ONE_TOKEN_Q8_KERNELS[this.matvecKernel], 'matmul-q8'] as const : [ONE_TOKEN_KERNELS[this.matvecKernel], this.matmul === 'tiled' ? 'matmul-tiled' : 'matmul'] as const;
    const grid = workgroupGrid(groupsOf(single === 'matvec' || single === 'matvec-q8' ? 64 : 4), this.device.limits.maxComputeWorkgroupsPerDimension);
    const tokensPerGroup = multi === 'matmul-tiled' ? TILED_MATMUL_TOKENS : MATMUL_TILE;
    // The float products norm their input themselves; the 8-bit ones read xq, which quantizeQ8 normed.
    const normed: Record<string, number> = norm && !q8 ? { NORM: 1, EPS: norm.eps } : {};
    const normWeight = q8 ? null : norm?.weight ?? input; // bound either way: the float products' layout has it
    const bindings = ([out, ...rest]: Binding[]) => [weights, q8 ? xq! : input, out!, normWeight, ...rest];
    const { OUT_STRIDE, ROW_START, ...entryConstants } = constants;
    const base = { ROWS: m.rows, COLS: m.cols, ...entryConstants, ...normed };
    // The head's argmax partials: ceil(head rows / 4) of them (OUT_STRIDE: the whole head's rows), this block's from ROW_START.
    const oneArgmax: Record<string, number> = argmax ? { ARGMAX_PARTS: headArgmaxParts(OUT_STRIDE!), ROW_START: ROW_START! } : {};
    const oneBindings = bindings(outs.one);
    if (argmax) oneBindings.push(...Array<Binding>(ARGMAX_BINDING - oneBindings.length).fill(null), argmax);
    if (second) oneBindings.push(...Array<Binding>(SECOND_MATRIX_BINDING - oneBindings.length).fill(null), second.buffer);
    const placement: Record<string, number> = entry === 'main' || entry === 'main_bias' ? { OUT_STRIDE: OUT_STRIDE!, ROW_START: ROW_START! } : {};
    // Without a one-token form the batched one stands alone: one-token passes skip it.
    const batchedGrid: Grid = (tokens) => (oneToken || tokens > 1 ? [groupsOf(64), Math.ceil(tokens / tokensPerGroup)] : [0, 0]);
    const many = batched ? await this.make(`${label} (batched)`, multi, { ...base, ...placement }, batchedGrid, bindings(outs.batched), m.dtype, entry) : undefined;
    if (!oneToken) {
      if (!many) throw new Error(`${label}: a product needs a one-token or a batched form`);
      return many;
    }
    const run = LANE_KERNELS.has(single) ? laneRun(this.laneSteps, m.cols) : 1; // the float lane kernels' walk
    const oneConstants = { ...base, ...oneArgmax, ...(second ? { SECOND_FIRST: m.rows - second.rows } : {}), ...(run > 1 ? { LANE_STEPS: run } : {}) };
    const one = await this.make(label, single, oneConstants, () => grid, oneBindings, m.dtype, argmax ? 'main_argmax' : second ? 'main_qkv_mixed' : entry, second?.dtype);
    one.batched = many;
    return one;
  }

  /** out[t] = table[token[t]]: one dispatch per row block; only the block holding a token writes its row. */
  embedding(label: string, table: Matrix, token: GPUBuffer, out: GPUBuffer): Promise<Dispatch[]> {
    const blocks = this.rowBlocks(table);
    return Promise.all(blocks.map(({ start, rows, byteOffset, byteLength }) => this.make(
      blocks.length === 1 ? label : `${label} [rows ${start}+${rows}]`, 'embedding',
      blocks.length === 1 ? { DIM: table.cols } : { DIM: table.cols, ROW_START: start, ROWS: rows }, tokenGrid(workgroups(table.cols)),
      [token, { buffer: table.buffer, offset: byteOffset, size: byteLength }, out], table.dtype,
    )));
  }

  /**
   * Cache rows [pos, pos + tokens) of kCache and vCache = the pass's k and v [tokens, kvRows], converted to the
   * cache's element type (kv-store.wgsl): the cache write where the q/k/v product's epilogue cannot make it and the
   * cache is not f32 (an f32 cache takes a buffer copy).
   */
  kvStore(label: string, step: GPUBuffer, [k, v]: [GPUBuffer, GPUBuffer], [kCache, vCache]: [GPUBuffer, GPUBuffer], kvRows: number, cacheRows: number): Promise<Dispatch> {
    return this.make(label, 'kv-store', { KV_ROWS: kvRows, CACHE_ROWS: cacheRows }, tokenGrid(workgroups(kvRows)), [step, k, v, kCache, vCache]);
  }

  /** a += b over each token's n elements (a residual add; a and b both [tokens, n]). */
  add(label: string, a: GPUBuffer, b: GPUBuffer, n: number, capacity: number): Promise<Dispatch> {
    return this.make(label, 'add', { N: n * capacity }, elementGrid(n), [a, b]);
  }

  /** a[t] += bias for each token's row (a [tokens, n], bias [n]). */
  addBias(label: string, a: GPUBuffer, bias: GPUBuffer, n: number, capacity: number): Promise<Dispatch> {
    return this.make(label, 'add', { N: n * capacity, B_LEN: n }, elementGrid(n), [a, bias]);
  }

  /** out = rmsnorm(input) · weight over `rows` rows of n per token (one workgroup per row; weight shared). */
  rmsnorm(label: string, input: GPUBuffer, weight: GPUBuffer, out: GPUBuffer, n: number, eps: number, rows = 1): Promise<Dispatch> {
    return this.make(label, 'rmsnorm', { N: n, EPS: eps }, rowGrid(rows), [input, weight, out]);
  }

  /** out = layernorm(input) · weight + bias over each token's row of n. */
  layernorm(label: string, input: GPUBuffer, norm: Norm, out: GPUBuffer, n: number, eps: number): Promise<Dispatch> {
    if (!norm.bias) throw new Error(`${label}: layer norm needs a bias`); // the tensor check guarantees one
    return this.make(label, 'layernorm', { N: n, EPS: eps }, rowGrid(1), [input, norm.weight, norm.bias, out]);
  }

  /** x = op(x) in place, elementwise over each token's n elements (softcap, scale). */
  inPlace(label: string, name: 'softcap' | 'scale', x: GPUBuffer, n: number, capacity: number, constants: Record<string, number> = {}): Promise<Dispatch> {
    return this.make(label, name, { N: n * capacity, ...constants }, elementGrid(n), [x]);
  }

  /** gate = act(gate) · up in place over each token's n elements (glu.wgsl: SwiGLU or GeGLU). */
  gated(label: string, activation: GatedActivation, gate: GPUBuffer, up: GPUBuffer, n: number, capacity: number): Promise<Dispatch> {
    return this.make(label, 'glu', { N: n * capacity, ACT: activation === 'geglu' ? 1 : 0 }, elementGrid(n), [gate, up]);
  }
}
