// A Hugging Face safetensors repo as a ModelFile: config.json translated into GGUF metadata (./config.ts),
// every safetensors header read (one file, or the shards model.safetensors.index.json lists), tensors
// renamed and transformed as llama.cpp's converter would (./tensors.ts) — lazily, one tensor per read.
// Also the repo's tokenizer files, which src/tokenizer/hf.ts turns into a Tokenizer.
import { FormatError } from '../../errors';
import { readJsonFile, readTextFile, repoFileUrl } from '../../io/file-set';
import type { FileSet } from '../../io/model-location';
import { ProgressReporter, type ProgressCallback } from '../../io/progress';
import { halfToFloat } from '../f16';
import { GGMLType, tensorByteLength } from '../ggml-types';
import type { ModelFile, ModelTensorInfo } from '../model-file';
import { floatsToHalfBytes, floatToHalf, toFloats } from '../quantize';
import { checkedDType, isPlainObject, parseShardIndex, readSafetensors, type SafetensorsDType, type SafetensorsFile, type SafetensorsTensor } from '../safetensors';
import { translateConfig, type TranslatedConfig } from './config';
import { permutedSourceRow, planTensor, reorderRows, transposeBytes, type TensorPlan } from './tensors';

type Json = Record<string, unknown>;

export interface HFRepo {
  /** The directory or base URL. */
  name: string;
  config: TranslatedConfig;
  /** The model in GGUF terms: what readModelConfig and uploadWeights read. */
  file: ModelFile;
  tokenizerJSON: Json;
  tokenizerConfig: Json;
  /** generation_config.json (eos_token_id of instruction-tuned models), when the repo has one. */
  generationConfig: Json | undefined;
  /** tokenizer_config.json's chat_template, or chat_template.jinja. */
  chatTemplate: string | undefined;
  /** Bytes of the safetensors files. */
  fileBytes: number;
  /** Safetensors files that report their own progress (Range downloads, cache reads) send their last event. */
  endProgress(): void;
  /** Closes the safetensors files. */
  close(): Promise<void>;
}

export interface OpenRepoOptions {
  /** 'upload' progress per safetensors file as its tensors are read (none for files streamed by Range requests). */
  onProgress?: ProgressCallback;
}

const INDEX_FILE = 'model.safetensors.index.json';

export async function openHFRepo(files: FileSet, options: OpenRepoOptions = {}): Promise<HFRepo> {
  const config = translateConfig(await readJsonFile(files, 'config.json', true), repoFileUrl(files.name, 'config.json'));
  const tokenizerJSON = await readJsonFile(files, 'tokenizer.json', true);
  const tokenizerConfig = (await readJsonFile(files, 'tokenizer_config.json', false)) ?? {};
  const generationConfig = await readJsonFile(files, 'generation_config.json', false);
  if (!isPlainObject(tokenizerJSON)) throw new FormatError(`${repoFileUrl(files.name, 'tokenizer.json')} is not a JSON object`);
  if (!isPlainObject(tokenizerConfig)) throw new FormatError(`${repoFileUrl(files.name, 'tokenizer_config.json')} is not a JSON object`);
  const chatTemplate = chatTemplateOf(tokenizerConfig) ?? (await readTextFile(files, 'chat_template.jinja'));

  const shards = await openShards(files);
  try {
    const file = buildModelFile(files.name, config, shards, vocabRows(tokenizerJSON), options);
    return {
      name: files.name, config, file, tokenizerJSON, tokenizerConfig, chatTemplate,
      generationConfig: isPlainObject(generationConfig) ? generationConfig : undefined,
      fileBytes: shards.reduce((sum, s) => sum + s.source.size, 0),
      endProgress: () => { for (const s of shards) s.source.endProgress?.(); },
      close: () => closeAll(shards),
    };
  } catch (e) {
    await closeAll(shards);
    throw e;
  }
}

/** model.safetensors, or every shard of model.safetensors.index.json (each tensor checked to be where the index says). */
async function openShards(files: FileSet): Promise<SafetensorsFile[]> {
  const single = await files.open('model.safetensors');
  if (single) {
    try {
      return [await readSafetensors(single)];
    } catch (e) {
      await single.close?.();
      throw e;
    }
  }
  const indexText = await readTextFile(files, INDEX_FILE);
  if (indexText === undefined) {
    throw new FormatError(`${files.name} has neither model.safetensors nor ${INDEX_FILE}; Hearth loads safetensors weights (or give it a .gguf file)`);
  }
  const index = parseShardIndex(indexText, repoFileUrl(files.name, INDEX_FILE));
  const shards: SafetensorsFile[] = [];
  try {
    for (const shard of index.shards) {
      const source = await files.open(shard);
      if (!source) throw new FormatError(`${repoFileUrl(files.name, INDEX_FILE)} lists ${shard}, which ${files.name} does not have`);
      shards.push(await readSafetensors(source).catch(async (e) => { await source.close?.(); throw e; }));
    }
    for (const [tensor, shard] of index.weightMap) {
      if (!shards[index.shards.indexOf(shard)]!.tensors.has(tensor)) {
        throw new FormatError(`${repoFileUrl(files.name, INDEX_FILE)} puts tensor '${tensor}' in ${shard}, which does not contain it`);
      }
    }
  } catch (e) {
    await closeAll(shards);
    throw e;
  }
  return shards;
}

async function closeAll(shards: SafetensorsFile[]): Promise<void> {
  await Promise.all(shards.map((s) => s.source.close?.()));
}

function chatTemplateOf(tokenizerConfig: Json): string | undefined {
  const t = tokenizerConfig.chat_template;
  if (typeof t === 'string') return t;
  // A list of named templates: the default one is what apply_chat_template uses.
  if (Array.isArray(t)) {
    const named = t.find((x) => isPlainObject(x) && x.name === 'default');
    return isPlainObject(named) && typeof named.template === 'string' ? named.template : undefined;
  }
  return undefined;
}

/** Gemma 3's converter keeps this many embedding rows: the tokenizer's vocabulary plus its added tokens. */
function vocabRows(tokenizerJSON: Json): number | undefined {
  const model = tokenizerJSON.model;
  const vocab = isPlainObject(model) ? model.vocab : undefined;
  const size = Array.isArray(vocab) ? vocab.length : isPlainObject(vocab) ? Object.keys(vocab).length : undefined;
  const added = Array.isArray(tokenizerJSON.added_tokens) ? tokenizerJSON.added_tokens.length : 0;
  return size === undefined ? undefined : size + added;
}

interface Planned extends ModelTensorInfo { plan?: TensorPlan; source?: SafetensorsTensor; dtype?: SafetensorsDType; generated?: Float32Array }

function buildModelFile(name: string, config: TranslatedConfig, shards: SafetensorsFile[], vocab: number | undefined, options: OpenRepoOptions): ModelFile {
  const tensors: Planned[] = [];
  const tensorsByName = new Map<string, Planned>();
  const add = (t: Planned) => {
    const other = tensorsByName.get(t.name);
    if (other) throw new FormatError(`${name}: tensors '${other.plan?.hfName ?? other.name}' and '${t.plan?.hfName ?? t.name}' both map to '${t.name}'`);
    tensors.push(t);
    tensorsByName.set(t.name, t);
  };
  for (const g of config.generated) add({ name: g.name, dims: [g.data.length], type: GGMLType.F32, byteLength: 4 * g.data.length, generated: g.data });

  const reporters = new Map<SafetensorsFile, { reporter: ProgressReporter; loaded: number }>();
  for (const shard of shards) {
    const used: Planned[] = [];
    for (const st of shard.tensors.values()) {
      const plan = planTensor(st.name, config, vocab);
      if (!plan) continue;
      const dtype = checkedDType(st);
      const t = plannedInfo(name, plan, st, dtype);
      add(t);
      used.push(t);
    }
    // Range-streamed URLs and cached files already report 'download' / 'cache-read' progress as tensors arrive.
    const streamed = shard.source.reportsProgress === true;
    const total = used.reduce((sum, t) => sum + t.source!.byteLength, 0);
    reporters.set(shard, { reporter: new ProgressReporter(streamed ? undefined : options.onProgress, shard.source.name, total, 'upload'), loaded: 0 });
  }
  const shardOf = new Map<SafetensorsTensor, SafetensorsFile>();
  for (const shard of shards) for (const st of shard.tensors.values()) shardOf.set(st, shard);

  return {
    metadata: config.metadata,
    tensors,
    tensorsByName,
    source: { name },
    async readTensor(info) {
      const t = tensorsByName.get(info.name);
      if (!t) throw new FormatError(`${name}: the model has no tensor '${info.name}'`);
      if (t.generated) return new Uint8Array(t.generated.buffer.slice(0));
      const bytes = await t.source!.source.read(t.source!.offset, t.source!.byteLength);
      const progress = reporters.get(shardOf.get(t.source!)!)!;
      progress.loaded += t.source!.byteLength;
      progress.reporter.report(progress.loaded);
      return transform(bytes, t);
    },
  };
}

/** The GGUF tensor info of a planned HF tensor: ggml dims (reversed), type, byte length. */
function plannedInfo(repo: string, plan: TensorPlan, st: SafetensorsTensor, dtype: SafetensorsDType): Planned {
  const shape = [...st.shape];
  const where = `${repo}: tensor '${st.name}' [${st.shape.join(', ')}]`;
  if (plan.transpose) {
    if (shape.length !== 2) throw new FormatError(`${where} should be a 2-D Conv1D weight`);
    shape.reverse();
  }
  if (plan.rows !== undefined && shape.length === 2) shape[0] = Math.min(shape[0]!, plan.rows);
  if (plan.permuteHeads !== undefined) {
    const heads = plan.permuteHeads;
    if (!(Number.isInteger(heads) && heads > 0 && shape[0]! % (2 * heads) === 0)) throw new FormatError(`${where}: ${shape[0]} rows do not split into ${heads} heads of rotary pairs`);
  }
  if (shape.length === 0 || shape.some((d) => d === 0)) throw new FormatError(`${where} is empty`);
  const dims = shape.reverse();
  const f32 = plan.forceF32 || dims.length <= 1 || plan.name.endsWith('_norm.weight');
  const type = f32 ? GGMLType.F32 : GGMLType[dtype];
  return { name: plan.name, dims, type, byteLength: tensorByteLength(type, dims), plan, source: st, dtype };
}

/** The stored bytes → the GGUF tensor's bytes (see ./tensors.ts for what each step mirrors). */
function transform(stored: Uint8Array, t: Planned): Uint8Array {
  const plan = t.plan!, st = t.source!, dtype = t.dtype!;
  const elementBytes = dtype === 'F32' ? 4 : 2;
  const rows = st.shape.length >= 2 ? st.shape[0]! : st.shape[0] ?? 1;
  let bytes = stored;
  if (plan.rows !== undefined && st.shape.length === 2 && plan.rows < rows) bytes = bytes.subarray(0, (bytes.byteLength / rows) * plan.rows);
  const keptRows = bytes.byteLength / (stored.byteLength / rows);
  if (plan.permuteHeads !== undefined) bytes = reorderRows(bytes, keptRows, (r) => permutedSourceRow(r, keptRows, plan.permuteHeads!));
  if (plan.transpose) bytes = transposeBytes(bytes, st.shape[0]!, st.shape[1]!, elementBytes);
  if (t.type === GGMLType[dtype] && !plan.addOne) return bytes;
  const values = toFloats(bytes, dtype);
  if (plan.addOne) {
    // The converter adds 1 in the tensor's own dtype: f16 arithmetic rounds the sum to f16 (bf16 is widened first).
    for (let i = 0; i < values.length; i++) values[i] = dtype === 'F16' ? halfToFloat(floatToHalf(values[i]! + 1)) : Math.fround(values[i]! + 1);
  }
  if (t.type === GGMLType.F32) return new Uint8Array(values.buffer);
  if (t.type === GGMLType.F16) return floatsToHalfBytes(values);
  throw new FormatError(`${st.source.name}: cannot store tensor '${st.name}' as ggml type ${t.type}`);
}
