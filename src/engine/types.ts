// The public shapes of the engine API, shared by the page, the worker, Node and the OpenAI layer. This module
// imports neither the Engine interface (api.ts) nor the OpenAI layer, which both build on it.
import type { ModelFetchOptions } from '../io/fetch-options';
import type { LoadProgress } from '../io/progress';
import type { ChatMessage, ChatTemplateOptions, ChatTool } from '../tokenizer/chat-template';
import type { ToolCallSpec } from './tools/formats';

export type { LoadProgress, ChatMessage, ChatTemplateOptions };

/**
 * Where a model comes from: a Hugging Face hub id (`owner/repo` — a GGUF chosen by `quantization`, or the
 * safetensors set —, `owner/repo/file.gguf`, `owner/repo@revision/...`; downloaded once into the model cache),
 * a URL (absolute or page-relative; in browsers write a relative one as `./x/y.gguf` so it is not read as an
 * id), a local path (Node), or the bytes of a GGUF. A split GGUF (`<name>-00001-of-00003.gguf`) loads as one.
 * A .gguf file is read as GGUF; a directory (Node) or a base URL serving `<base>/config.json`, `tokenizer.json`
 * and `model.safetensors` (or `model.safetensors.index.json` and its shards) — the layout of
 * https://huggingface.co/<repo>/resolve/main — is loaded as a Hugging Face safetensors repo.
 */
export type ModelSource = string | URL | ArrayBuffer | Uint8Array;

export interface LoadOptions extends ModelFetchOptions {
  /** Called as the model downloads (or is read from the cache), uploads to the GPU and compiles; throttled. */
  onProgress?: (p: LoadProgress) => void;
  /** Aborts loading with an AbortError. */
  signal?: AbortSignal;
  /** Positions the KV cache holds; defaults to min(model's context length, 2048). */
  contextLength?: number;
  /**
   * Arithmetic of the weight kernels, chosen once at load. 'auto' (default): on CPU adapters (SwiftShader,
   * lavapipe), 'q8' for models with q4_0 or q8_0 matrices, as llama.cpp does on CPUs, else f32 (they emulate
   * f16); on GPUs f16 where the adapter has the 'shader-f16' feature (faster with native f16; logits differ
   * from f32 slightly), else f32. 'f32' gives the reference results on any device; 'f16' where unsupported is a
   * ResourceError. 'q8' multiplies q4_0 and q8_0 weight matrices with activations quantized to 8 bits per block
   * of 32, in integers, as llama.cpp's CPU backend does (other weights in f32): faster decode on CPU adapters,
   * logits close to f32's, and llama.cpp's kind of drift in long greedy runs (README.md, Requirements, has the
   * measurements).
   */
  precision?: 'auto' | 'f16' | 'f32' | 'q8';
  /**
   * The KV cache's element type, chosen once at load. 'auto' (default): f16 on GPUs with the 'shader-f16' feature
   * (half the cache's memory and attention's reads; keys and values rounded to f16 as stored, attention computed in
   * f32, as llama.cpp's default F16 cache does), f32 on CPU adapters and elsewhere. 'f16' where unsupported is a
   * ResourceError. The WebAssembly backend always has llama.cpp's f16 cache.
   */
  kvCache?: 'auto' | 'f16' | 'f32';
  /**
   * Quantize float (F32/F16/BF16) weight matrices to Q8_0 or Q4_0 as they load, like llama-quantize without an
   * importance matrix, so an f16 model takes about half (q8_0) or a quarter (q4_0) of the GPU memory. Matrices
   * whose rows are not a multiple of 32 become F16. Default: weights stay as stored.
   */
  quantize?: 'q8_0' | 'q4_0';
  /** Browser only: run the engine in a Web Worker (default) or on the calling thread. */
  worker?: boolean;
  /**
   * Load for embeddings (engine.embeddings): inputs run packed, several per pass, each attending only within
   * itself. Always on for encoders (BERT, nomic-bert), which cannot generate; for a decoder embedding model
   * (Qwen3-Embedding) say true, and it then cannot generate. The context length (the longest input) then
   * defaults to min(512, the model's).
   */
  embeddings?: boolean;
  /**
   * Which backend runs the model. 'auto' (default): WebGPU on a hardware adapter; in a browser without WebGPU,
   * without an adapter, or with only a software adapter (SwiftShader, lavapipe, a fallback adapter), llama.cpp
   * compiled to WebAssembly (wllama), which is faster there; in Node always WebGPU. 'webgpu' or 'wasm' force
   * one. On 'wasm', what only WebGPU has (precision, quantize, embeddings, logits, frequency and presence
   * penalties) is an UnsupportedError naming it. ModelInfo.backend and backendReason say what ran.
   */
  backend?: 'auto' | 'webgpu' | 'wasm';
}

export interface ModelInfo {
  /** `general.name`, or the file name. */
  name: string;
  architecture: string;
  /** Positions the KV cache holds (what a prompt plus its continuation must fit in). */
  contextLength: number;
  vocabSize: number;
  /**
   * The Jinja chat template of an instruction-tuned model (`tokenizer.chat_template`); undefined for a base
   * model, which only continues text (chat() then throws InvalidRequestError).
   */
  chatTemplate?: string;
  /**
   * With a chat template: whether it takes a system message. When it does not (Gemma's), chat() puts the
   * system message's text in front of the first user message.
   */
  supportsSystemRole?: boolean;
  /** Weight storage, e.g. 'F32', 'F16'. */
  weightType: string;
  /** Bytes given to createBuffer for weights, KV cache and activations. */
  gpuBytes: number;
  /** Arithmetic of the weight kernels: f16 (partial sums in f32), f32, or q8 (8-bit activations); see LoadOptions.precision. */
  precision: 'f16' | 'f32' | 'q8';
  /** The KV cache's element type (LoadOptions.kvCache). */
  kvCache: 'f16' | 'f32';
  /** Adapter description, e.g. 'llvmpipe' or 'SwiftShader'; on 'wasm', llama.cpp WebAssembly and its threads. */
  adapter: string;
  /** The backend that runs the model: Hearth's WGSL on WebGPU, or llama.cpp's WebAssembly build (LoadOptions.backend). */
  backend: 'webgpu' | 'wasm';
  /** Why that backend, e.g. "no WebGPU adapter", "software adapter (SwiftShader): llama.cpp WebAssembly is faster here". */
  backendReason: string;
  /**
   * The adapter profile the kernels were chosen by (src/gpu/profile.ts): 'gpu', or 'software' where shaders run on
   * the CPU (SwiftShader, lavapipe); one-token products ('subgroup', 'workgroup' or 'rows' kernels; laneSteps: the run of steps a lane of the first two takes; alignedWeights: Q4_0, Q8_0 and Q6_K
   * matrices repacked at load for aligned reads), prefill products
   * ('tiled' or 'rows'), attention ('flash' kernels, or a workgroup per head with long contexts 'split' into chunks or
   * attended 'whole'), RMSNorm fused into the products, prompt tokens a prefill pass asks for, and argmax and the
   * sampler over many workgroups ('wide') or one ('single').
   * null on the 'wasm' backend, which runs llama.cpp's own kernels.
   */
  profile: { name: 'gpu' | 'software'; matvec: 'subgroup' | 'workgroup' | 'rows'; laneSteps: number; alignedWeights: boolean; attention: 'flash' | 'split' | 'whole'; matmul: 'tiled' | 'rows'; fuseNorm: boolean; prefillBatch: number; sampling: 'wide' | 'single' } | null;
}

/** Constrained output: JSON of any shape (an object at the top), or JSON valid under a JSON Schema. */
/**
 * 'tool_calls' is how the OpenAI layer asks for tool calls in the template's syntax (src/engine/tools/): the
 * output is forced to be the calls ('required'), or free text until the format's opener and the calls from there.
 */
export type ResponseFormat = { type: 'json_object' } | { type: 'json_schema'; schema: Record<string, unknown> } | { type: 'tool_calls'; spec: ToolCallSpec };

export interface GenerateOptions {
  /** Most tokens to generate (default 256; Infinity = until a stop condition or the end of the context). */
  maxTokens?: number;
  /** 0 (default) = greedy (argmax); > 0 samples with the seeded pcg_hash stream. All sampling runs on the GPU. */
  temperature?: number;
  /** Keep the k most likely tokens (lower id first on ties); 0 (default) = off. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches topP; 1 (default) = off. */
  topP?: number;
  /** Keep tokens whose probability is at least minP × the top token's; 0 (default) = off. */
  minP?: number;
  /** > 1 discourages every token of the prompt and the output so far (transformers' rule); 1 (default) = off. */
  repetitionPenalty?: number;
  /** Subtracted from a token's logit once per occurrence in the output so far (OpenAI's rule); 0 = off. */
  frequencyPenalty?: number;
  /** Subtracted from a token's logit if it occurs in the output so far (OpenAI's rule); 0 = off. */
  presencePenalty?: number;
  /** Token id → value in [-100, 100] added to its logit (-100 practically bans it). */
  logitBias?: Record<number, number>;
  /** Texts that end generation; the output stops before the first one and never shows any part of it. */
  stop?: string | string[];
  /** Seed for sampling (default 0): the same seed gives the same output, in Node and in browsers. */
  seed?: number;
  /** Report each generated token's log-probability (TokenChunk.logprobs). */
  logprobs?: boolean;
  /** With logprobs: also the n most likely tokens at each step (0..20). */
  topLogprobs?: number;
  /** Constrain the output to JSON (optionally matching a schema): token masks from a grammar, on every step. */
  responseFormat?: { type: 'text' } | ResponseFormat;
  /** chat only: the tools the model may call, passed to its chat template (as transformers does). */
  tools?: ChatTool[];
  /**
   * What happens when the prompt does not fit the context (OpenAI's Responses API has the same option).
   * 'disabled' (default): the request fails with InvalidRequestError. 'auto': the oldest part is left out until
   * the prompt leaves room for min(maxTokens, a quarter of the context) tokens of reply — for chat whole turns
   * (a user message and what follows it, tool calls with their results), keeping the system message and the
   * last user message; for a text or token prompt its oldest tokens, keeping BOS. The result says how much went
   * (truncatedMessages, truncatedTokens).
   */
  truncation?: 'auto' | 'disabled';
  /**
   * Prepend BOS to a text prompt. Default: as the model file says (`tokenizer.ggml.add_bos_token`, or
   * tokenizer_config.json's `add_bos_token`), as llama.cpp and transformers do: Llama and Gemma add it,
   * Qwen and GPT-2 do not.
   */
  addBos?: boolean;
  /**
   * Aborting stops the request: while it waits in the queue it rejects with an AbortError; once running
   * (prefill or decode) it ends within one step with finishReason 'abort' and what was generated so far.
   */
  signal?: AbortSignal;
}

/** A token's log-probability (natural log, under the model's own distribution) as OpenAI reports it. */
export interface TokenLogprob {
  id: number;
  /** The token's text; bytes holds its exact bytes (a token may be part of a character). */
  token: string;
  bytes: number[];
  logprob: number;
  /** The most likely tokens at this step, largest first (topLogprobs of them). */
  topLogprobs: { id: number; token: string; bytes: number[]; logprob: number }[];
}

/**
 * One generated token and the text it completed ('' while a UTF-8 character is incomplete or the text might
 * be the start of a stop string). `token` is -1 only for a last chunk that flushes held-back text at the end.
 */
export interface TokenChunk { token: number; text: string; logprobs?: TokenLogprob }

export interface GenerationResult {
  /** Prompt ids as fed to the model, BOS included. */
  promptTokens: number[];
  /** Generated ids (the EOS / end-of-turn token not included; a token that completed a stop string is). */
  tokens: number[];
  /** The decoded continuation only, cut before a stop string. */
  text: string;
  /** 'stop': EOS, end of turn, a stop string, or complete JSON; 'length': maxTokens or the end of the context. */
  finishReason: 'stop' | 'length' | 'abort';
  /** Prompt tokens whose keys and values came from the cache (the reused prefix of the previous context). */
  cachedTokens: number;
  /** Prompt tokens actually computed (promptTokens.length − cachedTokens) and their rate. */
  prefillTokens: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** With options.logprobs: one entry per generated token. */
  logprobs?: TokenLogprob[];
  /** chat with truncation 'auto': the oldest messages left out so that the conversation fits the context. */
  truncatedMessages?: number;
  /** generate with truncation 'auto': the oldest prompt tokens left out so that the prompt fits the context. */
  truncatedTokens?: number;
}

/**
 * Tokens as they are generated; `result` resolves when generation ends. Leaving a `for await` loop over it
 * early (break, return, a throw) cancels the request, as cancel() does.
 */
export interface TokenStream extends AsyncIterable<TokenChunk> {
  readonly result: Promise<GenerationResult>;
  /** Same as aborting the request's signal. */
  cancel(): void;
}
