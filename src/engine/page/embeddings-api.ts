// engine.embeddings on the page side: checks OpenAI's parameters before anything is queued and shapes the
// core's Float32Arrays into OpenAI's response (numbers, or base64 of the float32 bytes as the API sends them).
import { InvalidRequestError } from '../../errors';
import type { CreateEmbeddingResponse, EmbedOptions, EmbedResult, EmbeddingCreateParams, Embeddings } from '../embedding-types';

/** What the engine gives the API: the loaded model's name and the core's embed request. */
export interface EmbeddingsBackend {
  readonly modelName: string;
  embed(inputs: (string | number[])[], options: EmbedOptions): Promise<EmbedResult>;
}

const isIds = (x: unknown): x is number[] => Array.isArray(x) && x.every((v) => typeof v === 'number');

/** OpenAI's `input` (or embed's) as a list of inputs: texts or token-id arrays. */
function inputsOf(input: unknown): (string | number[])[] {
  const bad = (why: string) => new InvalidRequestError(`input ${why}; give a string, an array of strings, an array of token ids or an array of those`);
  if (typeof input === 'string') {
    if (input.length === 0) throw bad('is an empty string');
    return [input];
  }
  if (!Array.isArray(input)) throw bad(`is ${input === null ? 'null' : typeof input}`);
  if (input.length === 0) throw bad('is an empty array');
  if (isIds(input)) return [input.slice()];
  return input.map((x, i) => {
    if (typeof x === 'string') {
      if (x.length === 0) throw bad(`[${i}] is an empty string`);
      return x;
    }
    if (isIds(x) && x.length > 0) return x.slice();
    throw bad(`[${i}] is neither a non-empty string nor a non-empty array of token ids`);
  });
}

function base64(v: Float32Array): string {
  // The vector's own bytes: little-endian on every platform WebGPU runs on.
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export class EmbeddingsApi implements Embeddings {
  constructor(private readonly backend: EmbeddingsBackend) {}

  create(params: EmbeddingCreateParams & { encoding_format: 'base64' }): Promise<CreateEmbeddingResponse<string>>;
  create(params: EmbeddingCreateParams): Promise<CreateEmbeddingResponse>;
  async create(params: EmbeddingCreateParams): Promise<CreateEmbeddingResponse<number[] | string>> {
    if (typeof params !== 'object' || params === null) throw new InvalidRequestError('embeddings.create needs a parameter object { input, ... }');
    const { input, dimensions, encoding_format: format = 'float', model } = params;
    if (format !== 'float' && format !== 'base64') throw new InvalidRequestError(`encoding_format must be 'float' or 'base64', got ${JSON.stringify(format)}`);
    if (dimensions !== undefined && !(Number.isSafeInteger(dimensions) && dimensions > 0)) {
      throw new InvalidRequestError(`dimensions must be a positive integer, got ${JSON.stringify(dimensions)}`);
    }
    const r = await this.backend.embed(inputsOf(input), { dimensions, normalize: true });
    const tokens = r.tokenCounts.reduce((a, b) => a + b, 0);
    return {
      object: 'list',
      data: r.vectors.map((v, index) => ({ object: 'embedding', index, embedding: format === 'base64' ? base64(v) : Array.from(v) })),
      model: model ?? this.backend.modelName,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  embed(input: string | string[] | number[][], options: EmbedOptions = {}): Promise<EmbedResult> {
    return this.backend.embed(inputsOf(input), options);
  }
}
