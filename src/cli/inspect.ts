// `hearth inspect`: what a GGUF file holds and what it will cost on the GPU, from its header alone
// (metadata and tensor table; no tensor data is read and no GPU device is created). The profile and precision
// lines ask the WebGPU adapter what loading would choose: its profile (src/gpu/profile.ts), what precision
// 'auto' resolves to there for this model's weights, and the KV cache's element type (which the GPU memory counts).
import { backendReport, type BackendReport } from '../wasm/choose-backend';
import { formatBytes } from '../gpu/buffers';
import { probeAdapter } from '../gpu/device';
import { chooseKvCache, chooseProfile, choosePrecision, profileReport, type KvCacheOption, type PrecisionOption, type ProfileName, type ProfileReport } from '../gpu/profile';
import type { KvCacheType, ModelPrecision } from '../gpu/shaders';
import { HearthError } from '../errors';
import type { ModelConfig } from '../model/config';
import { readModelConfig, type ReadConfigOptions } from '../model/read-config';
import type { ModelFile } from '../model/model-file';
import type { OpenedModel } from '../model/open';
import { quantizeModelFile, type LoadQuantization } from '../model/quantize';
import { ggmlTypeName } from '../model/ggml-types';
import { type GGUFFile } from '../model/gguf';
import { getOptionalArray, getOptionalString } from '../model/gguf-metadata';
import { DEFAULT_CONTEXT_LENGTH } from '../model/load';
import { estimateGpuMemory, type GpuMemoryEstimate, type GpuMemoryOptions } from '../model/memory';
import { modelHasQ8Matrices } from '../model/tensors';
import { kvCacheOption, numberOption, parseCommand, precisionOption, quantizeOption, readModelHeader, UsageError } from './args';

interface TensorTypeStats { count: number; bytes: number }

export interface ModelReport {
  name: string;
  architecture: string;
  /** Elements of every tensor. */
  parameters: number;
  tensorTypes: Record<string, TensorTypeStats>;
  fileBytes: number;
  /** Context length the model was trained with (n_ctx_train); null when the architecture is not supported. */
  trainedContextLength: number | null;
  vocabSize: number | null;
  chatTemplate: boolean;
  /** What loading it would take on the GPU, for `gpuMemory.contextLength` positions; null when it cannot load. */
  gpuMemory: GpuMemoryEstimate | null;
  /** Why Hearth cannot run this file (unsupported architecture, vocab-only file, ...); null when it can. */
  problem: string | null;
  /** The weight kernels' arithmetic on this machine (set by the command, which asks the adapter). */
  precision?: PrecisionReport;
  /** The KV cache's element type on this machine (set by the command); gpuMemory counts it. */
  kvCache?: KvCacheReport;
  /** The backend: WebGPU in Node; what a browser's backend 'auto' would take with this adapter (src/wasm/choose-backend.ts). */
  backend?: BackendReport;
  /** The adapter profile loading would use on this machine, with its kernel choices; null without WebGPU (set by the command). */
  profile?: ProfileReport | null;
}

/** What `--precision` (default auto) would choose on this machine's WebGPU adapter. */
interface PrecisionReport {
  requested: PrecisionOption;
  /** f16, f32 or q8; null when there is no WebGPU adapter or it cannot do what was requested. */
  chosen: ModelPrecision | null;
  /** The adapter's description; null without WebGPU. */
  adapter: string | null;
  shaderF16: boolean | null;
  /** Why `chosen` is null. */
  problem: string | null;
}

/** What `--kv-cache` (default auto) would choose on this machine's WebGPU adapter. */
interface KvCacheReport {
  requested: KvCacheOption;
  /** f16 or f32; null when there is no WebGPU adapter or it cannot do what was requested. */
  chosen: KvCacheType | null;
  /** Why `chosen` is null. */
  problem: string | null;
}

/**
 * Asks the adapter createEngine would get (no device is created) for its profile, what `requested` resolves to
 * for a model that has (or lacks) q4_0/q8_0 matrices (modelHasQ8Matrices: 'auto' depends on it), and what
 * `requestedKv` resolves to.
 */
async function inspectAdapter(requested: PrecisionOption = 'auto', q8Matrices = false, requestedKv: KvCacheOption = 'auto'): Promise<{ precision: PrecisionReport; kvCache: KvCacheReport; profile: ProfileReport | null }> {
  const traits = await probeAdapter();
  const none = 'no WebGPU adapter on this machine';
  if (!traits) return { precision: { requested, chosen: null, adapter: null, shaderF16: null, problem: none }, kvCache: { requested: requestedKv, chosen: null, problem: none }, profile: null };
  const chosen = chooseProfile(traits);
  const profile = profileReport(chosen);
  const adapter = { adapter: traits.name, shaderF16: traits.shaderF16 };
  const attempt = <T>(choose: () => T): { chosen: T | null; problem: string | null } => {
    try {
      return { chosen: choose(), problem: null };
    } catch (e) {
      if (!(e instanceof HearthError)) throw e;
      return { chosen: null, problem: e.message };
    }
  };
  return {
    precision: { requested, ...adapter, ...attempt(() => choosePrecision(requested, traits, chosen, q8Matrices)) },
    kvCache: { requested: requestedKv, ...attempt(() => chooseKvCache(requestedKv, traits, chosen)) },
    profile,
  };
}

/**
 * The report for a parsed header. `contextLength` defaults to what createEngine would use; `memory` holds the loader's
 * choices the GPU memory depends on (precision 'q8' adds a scratch buffer; an f16 cache is half an f32 one; aligned
 * weights hold whole groups).
 */
export function inspectModel(gguf: GGUFFile, contextLength?: number, quantize?: LoadQuantization, memory: GpuMemoryOptions = {}): ModelReport {
  const file = quantize ? quantizeModelFile(gguf, quantize) : gguf;
  return inspectModelFile(file, {
    name: getOptionalString(gguf, 'general.name') ?? gguf.source.name.split('/').pop() ?? gguf.source.name,
    fileBytes: gguf.source.size,
    chatTemplate: getOptionalString(gguf, 'tokenizer.chat_template') !== undefined,
    vocabSize: getOptionalArray(gguf, 'tokenizer.ggml.tokens')?.length,
    readConfig: (o) => readModelConfig(file, o),
  }, contextLength, memory);
}

/** The report for a safetensors repo (config.json and safetensors headers, translated as for loading). */
function inspectOpenedModel(model: OpenedModel, contextLength?: number, memory: GpuMemoryOptions = {}): ModelReport {
  return inspectModelFile(model.file, {
    name: model.displayName, fileBytes: model.fileBytes, chatTemplate: model.chatTemplate !== undefined,
    vocabSize: model.tokenizer.vocabSize, readConfig: model.readConfig,
  }, contextLength, memory);
}

interface ModelDetails {
  name: string;
  fileBytes: number;
  chatTemplate: boolean;
  /** Vocabulary size when the config cannot be read. */
  vocabSize: number | undefined;
  readConfig(options?: ReadConfigOptions): ModelConfig;
}

function inspectModelFile(file: ModelFile, details: ModelDetails, contextLength?: number, memory: GpuMemoryOptions = {}): ModelReport {
  const tensorTypes: Record<string, TensorTypeStats> = {};
  let parameters = 0;
  for (const t of file.tensors) {
    const stats = (tensorTypes[ggmlTypeName(t.type)] ??= { count: 0, bytes: 0 });
    stats.count++;
    stats.bytes += t.byteLength;
    parameters += t.dims.reduce((a, b) => a * b, 1);
  }
  let config: ModelConfig | undefined;
  let problem: string | null = null;
  try {
    config = details.readConfig({ requireTensors: false });
    details.readConfig(); // the tensor check: a vocab-only or incomplete file says so here
  } catch (e) {
    if (!(e instanceof HearthError)) throw e;
    problem = e.message;
  }
  const positions = config ? Math.min(contextLength ?? DEFAULT_CONTEXT_LENGTH, config.contextLength) : 0;
  return {
    name: details.name,
    architecture: getOptionalString(file, 'general.architecture') ?? 'unknown',
    parameters,
    tensorTypes,
    fileBytes: details.fileBytes,
    trainedContextLength: config?.contextLength ?? null,
    vocabSize: config?.vocabSize ?? details.vocabSize ?? null,
    chatTemplate: details.chatTemplate,
    gpuMemory: config && !problem ? estimateGpuMemory(config, file.tensors, positions, memory) : null,
    problem,
  };
}

export async function inspectCommand(args: string[]): Promise<number> {
  const { model, values, fetch } = parseCommand('inspect', args, {
    'context-length': { type: 'string' },
    precision: { type: 'string' },
    'kv-cache': { type: 'string' },
    quantize: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const requested = precisionOption(values.precision) ?? 'auto';
  const requestedKv = kvCacheOption(values['kv-cache']) ?? 'auto';
  const contextLength = numberOption('context-length', values['context-length']);
  if (contextLength !== undefined && !(Number.isInteger(contextLength) && contextLength > 0)) {
    throw new UsageError(`--context-length must be a positive integer, got ${contextLength}`);
  }
  const quantize = quantizeOption(values.quantize);
  const header = await readModelHeader(model, { quantize, ...fetch });
  const { precision, kvCache, profile } = await inspectAdapter(requested, hasQ8Matrices(header, quantize), requestedKv);
  const memory = { precision: precision.chosen ?? undefined, kvCache: kvCache.chosen ?? undefined, alignedWeights: profile?.alignedWeights };
  const report = 'metadata' in header ? inspectModel(header, contextLength, quantize, memory) : inspectOpenedModel(header, contextLength, memory);
  if (!('metadata' in header)) await header.close();
  report.precision = precision;
  report.kvCache = kvCache;
  report.profile = profile;
  report.backend = backendReport(precision.adapter, profile === null ? null : profile.name === 'software');
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return 0;
}

/** modelHasQ8Matrices for a header as inspect reads it (after `quantize`); false when its config cannot be read. */
function hasQ8Matrices(header: GGUFFile | OpenedModel, quantize?: LoadQuantization): boolean {
  try {
    if (!('metadata' in header)) return modelHasQ8Matrices(header.file, header.readConfig({ requireTensors: false }));
    const file = quantize ? quantizeModelFile(header, quantize) : header;
    return modelHasQ8Matrices(file, readModelConfig(file, { requireTensors: false }));
  } catch (e) {
    if (e instanceof HearthError) return false; // the report says why the model cannot load
    throw e;
  }
}

function formatReport(r: ModelReport): string {
  const rows: [string, string][] = [
    ['name', r.name],
    ['architecture', r.architecture],
    ['parameters', `${compact(r.parameters)} (${r.parameters.toLocaleString('en-US')})`],
    ['file size', formatBytes(r.fileBytes)],
    ['context length', r.trainedContextLength === null ? '?' : `${r.trainedContextLength} (trained)`],
    ['vocab size', r.vocabSize === null ? '?' : String(r.vocabSize)],
    ['chat template', r.chatTemplate ? 'yes' : 'no (base model: continues text)'],
  ];
  const types = Object.entries(r.tensorTypes).sort((a, b) => b[1].bytes - a[1].bytes);
  types.forEach(([type, s], i) => rows.push([i === 0 ? 'tensor types' : '', `${type.padEnd(6)} ${String(s.count).padStart(5)} tensors  ${formatBytes(s.bytes)}`]));
  if (r.gpuMemory) {
    const m = r.gpuMemory;
    rows.push(['GPU memory', `${formatBytes(m.total)} for ${m.contextLength} positions`]);
    rows.push(['', `weights ${formatBytes(m.weights)} + KV cache ${formatBytes(m.kvCache)} + activations ${formatBytes(m.activations)}`]);
  }
  if (r.profile) rows.push(['profile', formatProfile(r.profile, r.precision?.adapter)]);
  if (r.precision) rows.push(['precision', formatPrecision(r.precision, r.profile?.name)]);
  if (r.kvCache) rows.push(['KV cache', formatKvCache(r.kvCache, r.profile?.name, r.precision)]);
  if (r.backend) rows.push(['backend', `webgpu here (Node); a browser's 'auto' takes ${r.backend.browser} (${r.backend.reason})`]);
  if (r.problem) rows.push(['cannot run', r.problem]);
  return rows.map(([k, v]) => `${k.padEnd(15)}${v}\n`).join('');
}

function formatProfile(p: ProfileReport, adapter: string | null | undefined): string {
  const kernels = `${p.matvec} matvec${p.laneSteps > 1 ? ` (runs of ${p.laneSteps} steps)` : ''}, ${p.alignedWeights ? 'aligned Q4_0/Q8_0/Q6_K weights, ' : ''}${p.matmul} matmul, ${p.attention} attention, norms ${p.fuseNorm ? 'fused' : 'separate'}, prefill ${p.prefillBatch} tokens a pass, ${p.sampling} sampling`;
  return `${p.name} on ${adapter ?? 'this adapter'} (${kernels})`;
}

function formatPrecision(p: PrecisionReport, profile: ProfileName | undefined): string {
  if (!p.chosen) return `unknown: ${p.problem}`;
  const auto = profile === 'software'
    ? `auto: ${p.adapter} runs on the CPU${p.chosen === 'q8' ? ' and the model has Q4_0/Q8_0 matrices' : ''}`
    : `auto: ${p.adapter} ${p.shaderF16 ? 'has' : 'lacks'} shader-f16`;
  const why = p.requested === 'auto' ? auto : `requested, on ${p.adapter}`;
  return `${p.chosen} arithmetic in the weight kernels (${why})`;
}

function formatKvCache(kv: KvCacheReport, profile: ProfileName | undefined, adapter: PrecisionReport | undefined): string {
  if (!kv.chosen) return `unknown: ${kv.problem}`;
  const auto = profile === 'software' ? `auto: ${adapter?.adapter} runs on the CPU` : `auto: ${adapter?.adapter} ${adapter?.shaderF16 ? 'has' : 'lacks'} shader-f16`;
  return `${kv.chosen} keys and values (${kv.requested === 'auto' ? auto : `requested, on ${adapter?.adapter}`})`;
}

function compact(n: number): string {
  for (const [unit, size] of [['B', 1e9], ['M', 1e6], ['K', 1e3]] as const) if (n >= size) return `${(n / size).toFixed(n >= 10 * size ? 1 : 2)}${unit}`;
  return String(n);
}
