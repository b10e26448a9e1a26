// Shared pieces of the CLI commands: usage lines, option parsing, and reading a model's header (GGUF or repo).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { GenerateOptions, LoadOptions } from '../engine/types';
import { InvalidRequestError } from '../errors';
import { readGGUF, type GGUFFile } from '../model/gguf';
import { locateModel } from '../io/file-set';
import { openLocatedModel, type OpenedModel } from '../model/open';

export const USAGE: Record<string, string> = {
  generate: 'hearth generate --model <path|url> [--prompt <text>] [--max-tokens <n>] [--temperature <t>] [--top-k <k>] [--top-p <p>] [--seed <s>] [--context-length <n>] [--precision auto|f16|f32] [--quantize q8_0|q4_0] [--json]',
  chat: 'hearth chat --model <path|url> [--system <text>] [--max-tokens <n>] [--temperature <t>] [--top-k <k>] [--top-p <p>] [--seed <s>] [--context-length <n>] [--precision auto|f16|f32] [--quantize q8_0|q4_0] [--verbose]',
  tokenize: 'hearth tokenize --model <path|url> --text <text> [--json] [--no-bos] [--special]',
  inspect: 'hearth inspect --model <path|url> [--context-length <n>] [--precision auto|f16|f32] [--quantize q8_0|q4_0] [--json]',
};

export function usage(command?: string): string {
  const lines = command && USAGE[command] ? [USAGE[command]] : Object.values(USAGE);
  return `usage: ${lines.join('\n       ')}`;
}

/** util.parseArgs, strict, with a required --model. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  const { values } = parseArgs({ args, options: { model: { type: 'string' }, ...options }, strict: true, allowPositionals: false });
  const model = (values as { model?: string }).model;
  if (!model) throw new InvalidRequestError(`--model is required\n${usage(command)}`);
  return { model, values };
}

export function numberOption(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new InvalidRequestError(`--${name} must be a number, got '${value}'`);
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
  quantize: { type: 'string' },
} as const;

/** GenerateOptions from the parsed GENERATION_OPTIONS values. */
export function generationOptions(values: Partial<Record<keyof typeof GENERATION_OPTIONS, string | boolean>>): GenerateOptions {
  return {
    maxTokens: numberOption('max-tokens', values['max-tokens']),
    temperature: numberOption('temperature', values.temperature),
    topK: numberOption('top-k', values['top-k']),
    topP: numberOption('top-p', values['top-p']),
    seed: numberOption('seed', values.seed),
  };
}

/** --precision: the weight kernels' arithmetic (LoadOptions.precision); undefined = 'auto'. */
export function precisionOption(value: string | boolean | undefined): LoadOptions['precision'] {
  if (value === undefined) return undefined;
  if (value !== 'auto' && value !== 'f16' && value !== 'f32') throw new InvalidRequestError(`--precision must be auto, f16 or f32, got '${value}'`);
  return value;
}

/** --quantize: quantize float weights at load (LoadOptions.quantize). */
export function quantizeOption(value: string | boolean | undefined): LoadOptions['quantize'] {
  if (value === undefined) return undefined;
  if (value !== 'q8_0' && value !== 'q4_0') throw new InvalidRequestError(`--quantize must be q8_0 or q4_0, got '${value}'`);
  return value;
}

/** createEngine's options from the parsed GENERATION_OPTIONS values (--context-length, --precision, --quantize). */
export function loadOptions(values: Partial<Record<keyof typeof GENERATION_OPTIONS, string | boolean>>): LoadOptions {
  return { contextLength: numberOption('context-length', values['context-length']), precision: precisionOption(values.precision), quantize: quantizeOption(values.quantize) };
}

/**
 * The parsed GGUF header (metadata and tensor table) of a path or URL, or for a safetensors repo (a directory
 * or base URL) the opened repo (config, tokenizer, safetensors headers; close it); tensor data is not read.
 */
export async function readModelHeader(model: string, options: { quantize?: LoadOptions['quantize'] } = {}): Promise<GGUFFile | OpenedModel> {
  const location = await locateModel(model);
  if (location.kind === 'repo') return openLocatedModel(location, options);
  const source = location.source;
  try {
    return await readGGUF(source);
  } finally {
    await source.close?.();
  }
}
