// Shared pieces of the CLI commands: usage lines, option parsing, and reading a model's header (GGUF or repo).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ENGINE_NAMES, normalizeRequest, type OptionNames } from '../engine/options';
import type { GenerateOptions, LoadOptions } from '../engine/types';
import type { GGUFFile } from '../model/gguf';
import { readGGUFParts } from '../model/gguf-split';
import { fetchOptionsOf, type ModelFetchOptions } from '../io/fetch-options';
import { locateModel } from '../io/file-set';
import { openLocatedModel, type OpenedModel } from '../model/open';

/** Every command's --model is one of these; the fetch options after it say where hub ids come from. */
const MODEL = '<path|url|owner/repo[@revision][/file.gguf]>';
const FETCH = '[--cache-dir <dir>] [--hub-url <url>] [--quantization <Q4_K_M,...>]';

const USAGE: Record<string, string> = {
  generate: `hearth generate --model ${MODEL} [--prompt <text>] [--max-tokens <n>] [--temperature <t>] [--top-k <k>] [--top-p <p>] [--seed <s>] [--context-length <n>] [--precision auto|f16|f32|q8] [--kv-cache auto|f16|f32] [--quantize q8_0|q4_0] [--json] ${FETCH}`,
  chat: `hearth chat --model ${MODEL} [--system <text>] [--tools <file.json>] [--tool-choice auto|none|required|<name>] [--max-tokens <n>] [--temperature <t>] [--top-k <k>] [--top-p <p>] [--seed <s>] [--context-length <n>] [--precision auto|f16|f32|q8] [--kv-cache auto|f16|f32] [--quantize q8_0|q4_0] [--verbose] ${FETCH}`,
  tokenize: `hearth tokenize --model ${MODEL} --text <text> [--json] [--no-bos] [--special] ${FETCH}`,
  inspect: `hearth inspect --model ${MODEL} [--context-length <n>] [--precision auto|f16|f32|q8] [--kv-cache auto|f16|f32] [--quantize q8_0|q4_0] [--json] ${FETCH}`,
};

/**
 * Arguments the CLI itself cannot take (a missing or unknown option, a value that is not a number or not one of the
 * choices, an unknown command): exit status 2 with the usage, where a typed Hearth error from the engine exits 1.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function usage(command?: string): string {
  const lines = command && USAGE[command] ? [USAGE[command]] : Object.values(USAGE);
  return `usage: ${lines.join('\n       ')}`;
}

/**
 * util.parseArgs, strict, with a required --model and the fetch options every command takes: --cache-dir (the
 * model cache; default $HEARTH_CACHE_DIR or the user's cache directory), --hub-url (the hub for ids; default
 * $HF_ENDPOINT or huggingface.co), --quantization (which GGUF of an owner/repo id, or a comma-separated
 * preference). A token for gated repos comes from $HF_TOKEN.
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  const { values } = parseArgs({
    args, options: { model: { type: 'string' }, 'cache-dir': { type: 'string' }, 'hub-url': { type: 'string' }, quantization: { type: 'string' }, ...options },
    strict: true, allowPositionals: false,
  });
  const common = values as { model?: string; 'cache-dir'?: string; 'hub-url'?: string; quantization?: string };
  if (!common.model) throw new UsageError(`--model is required\n${usage(command)}`);
  const fetch: ModelFetchOptions = {};
  if (common['cache-dir']) fetch.cacheDir = common['cache-dir'];
  if (common['hub-url']) fetch.hubUrl = common['hub-url'];
  if (common.quantization) fetch.quantization = common.quantization.split(',').map((q) => q.trim()).filter(Boolean);
  return { model: common.model, values, fetch };
}

/** Download progress on stderr, one updating line, when stderr is a terminal (hub downloads can take minutes). */
export function terminalProgress(): LoadOptions['onProgress'] {
  if (!process.stderr.isTTY) return undefined;
  let last = '';
  return (p) => {
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    const line = p.phase === 'download' && p.total > 0
      ? `downloading ${p.file.split('/').pop()}: ${Math.floor((100 * p.loaded) / p.total)}% (${mib(p.loaded)} of ${mib(p.total)} MiB, ${mib(p.rate)} MiB/s)`
      : '';
    if (line === last) return;
    process.stderr.write(`\r\x1b[K${line}`);
    last = line;
  };
}

export function numberOption(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
  return n;
}

/** Options every generating command takes, for parseCommand. */
export const GENERATION_OPTIONS = {
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  'context-length': { type: 'string' },
  precision: { type: 'string' },
  'kv-cache': { type: 'string' },
  quantize: { type: 'string' },
} as const;

/** GenerateOptions from the parsed GENERATION_OPTIONS values. */
export function generationOptions(values: Partial<Record<keyof typeof GENERATION_OPTIONS, string | boolean>>): GenerateOptions {
  const options: GenerateOptions = {
    maxTokens: numberOption('max-tokens', values['max-tokens']),
    temperature: numberOption('temperature', values.temperature),
    topK: numberOption('top-k', values['top-k']),
    topP: numberOption('top-p', values['top-p']),
    seed: numberOption('seed', values.seed),
  };
  // Checked now, before the model loads, with the flags' names in the messages.
  normalizeRequest(options, Number.MAX_SAFE_INTEGER, CLI_NAMES);
  return options;
}

const CLI_NAMES: OptionNames = { ...ENGINE_NAMES, maxTokens: '--max-tokens', temperature: '--temperature', topK: '--top-k', topP: '--top-p', seed: '--seed' };

/** --precision: the weight kernels' arithmetic (LoadOptions.precision); undefined = 'auto'. */
export function precisionOption(value: string | boolean | undefined): LoadOptions['precision'] {
  if (value === undefined) return undefined;
  if (value !== 'auto' && value !== 'f16' && value !== 'f32' && value !== 'q8') throw new UsageError(`--precision must be auto, f16, f32 or q8, got '${value}'`);
  return value;
}

/** --kv-cache: the KV cache's element type (LoadOptions.kvCache); undefined = 'auto'. */
export function kvCacheOption(value: string | boolean | undefined): LoadOptions['kvCache'] {
  if (value === undefined) return undefined;
  if (value !== 'auto' && value !== 'f16' && value !== 'f32') throw new UsageError(`--kv-cache must be auto, f16 or f32, got '${value}'`);
  return value;
}

/** --quantize: quantize float weights at load (LoadOptions.quantize). */
export function quantizeOption(value: string | boolean | undefined): LoadOptions['quantize'] {
  if (value === undefined) return undefined;
  if (value !== 'q8_0' && value !== 'q4_0') throw new UsageError(`--quantize must be q8_0 or q4_0, got '${value}'`);
  return value;
}

/** createEngine's options from the parsed GENERATION_OPTIONS values (--context-length, --precision, --kv-cache, --quantize). */
export function loadOptions(values: Partial<Record<keyof typeof GENERATION_OPTIONS, string | boolean>>): LoadOptions {
  return {
    contextLength: numberOption('context-length', values['context-length']), precision: precisionOption(values.precision),
    kvCache: kvCacheOption(values['kv-cache']), quantize: quantizeOption(values.quantize),
  };
}

/**
 * The parsed GGUF header (metadata and tensor table) of a path or URL, or for a safetensors repo (a directory
 * or base URL) the opened repo (config, tokenizer, safetensors headers; close it); tensor data is not read.
 */
export async function readModelHeader(model: string, options: { quantize?: LoadOptions['quantize'] } & ModelFetchOptions = {}): Promise<GGUFFile | OpenedModel> {
  const location = await locateModel(model, { ...fetchOptionsOf(options), headerOnly: true });
  if (location.kind === 'repo') return openLocatedModel(location, options);
  const parts = location.parts ?? [location.source];
  try {
    return await readGGUFParts(parts);
  } finally {
    await Promise.all(parts.map((p) => p.close?.()));
  }
}
