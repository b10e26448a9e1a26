// transformers.js's TextStreamer, for code written against transformers.js v3 (@xenova/transformers 2.17 has
// none): `new TextStreamer(generator.tokenizer, { skip_prompt, callback_function })` passed as `streamer` to a
// Hearth text-generation pipeline receives the text as it is generated, in the same pieces llama.cpp would
// print (a multi-byte character waits for its last byte). Subclasses may override on_finalized_text, as there.

/** The streamer interface transformers.js's generate() calls: the ids of new tokens ([batch][ids]), then end(). */
export interface BaseStreamer {
  put(value: (number | bigint)[][]): void;
  end(): void;
}

export interface TextStreamerOptions {
  /** transformers.js feeds the prompt through the streamer first; Hearth never does, so this is accepted and has no effect. */
  skip_prompt?: boolean;
  /** Leave out special tokens when decoding ids given to put() (default true). */
  skip_special_tokens?: boolean;
  /** Receives each finalized piece of text. Default: written to stdout in Node, console.log in browsers. */
  callback_function?: (text: string) => void;
  /** Receives the ids of each new token. */
  token_callback_function?: (tokens: bigint[]) => void;
  decode_kwargs?: Record<string, unknown>;
}

/** Hearth's pipeline hands text that it has already decoded in the worker through this. */
export const pushText = Symbol('hearth.pushText');

interface SyncTokenizer { decode(ids: (number | bigint)[], options?: Record<string, unknown>): string }

export class TextStreamer implements BaseStreamer {
  readonly tokenizer: unknown;
  readonly skip_prompt: boolean;
  readonly callback_function: (text: string) => void;
  readonly token_callback_function?: (tokens: bigint[]) => void;
  readonly decode_kwargs: Record<string, unknown>;
  /** Ids given to put() (by code other than Hearth's pipeline), decoded with a synchronous tokenizer. */
  private ids: (number | bigint)[] = [];
  private printed = 0;

  constructor(tokenizer: unknown, options: TextStreamerOptions = {}) {
    this.tokenizer = tokenizer;
    this.skip_prompt = options.skip_prompt ?? false;
    this.callback_function = options.callback_function ?? writeOut;
    this.token_callback_function = options.token_callback_function;
    this.decode_kwargs = { skip_special_tokens: options.skip_special_tokens ?? true, ...options.decode_kwargs };
  }

  /** New token ids, as transformers.js's generate() passes them. Needs a tokenizer with a synchronous decode. */
  put(value: (number | bigint)[][]): void {
    const row = value[0] ?? [];
    this.token_callback_function?.(row.map((x) => BigInt(x)));
    const tokenizer = this.tokenizer as Partial<SyncTokenizer> | null;
    if (typeof tokenizer?.decode !== 'function') throw new TypeError('TextStreamer.put needs a tokenizer with a synchronous decode(ids); Hearth\'s pipeline streams text without it');
    this.ids.push(...row);
    const text = tokenizer.decode(this.ids, this.decode_kwargs);
    if (typeof text !== 'string') throw new TypeError('TextStreamer.put needs a tokenizer whose decode(ids) returns a string synchronously');
    // Hold back a trailing incomplete character (U+FFFD) until its remaining bytes arrive.
    const end = text.endsWith('\uFFFD') ? text.length - 1 : text.length;
    if (end > this.printed) this.on_finalized_text(text.slice(this.printed, end), false);
    this.printed = Math.max(this.printed, end);
  }

  /** Generation ended: flushes what is left. */
  end(): void {
    const tokenizer = this.tokenizer as Partial<SyncTokenizer> | null;
    const rest = this.ids.length > 0 && typeof tokenizer?.decode === 'function' ? tokenizer.decode(this.ids, this.decode_kwargs).slice(this.printed) : '';
    this.ids = [];
    this.printed = 0;
    this.on_finalized_text(rest, true);
  }

  /** Called with each finalized piece; `stream_end` on the last call. Override to handle text yourself. */
  on_finalized_text(text: string, stream_end: boolean): void {
    if (text.length > 0) this.callback_function(text);
    if (stream_end && this.callback_function === writeOut && isNode()) this.callback_function('\n');
  }

  /** Text Hearth decoded in the worker, with the token ids it completes (none for a final flush). */
  [pushText](text: string, tokens: number[]): void {
    if (tokens.length > 0) this.token_callback_function?.(tokens.map((x) => BigInt(x)));
    if (text.length > 0) this.on_finalized_text(text, false);
  }
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof process.stdout?.write === 'function';
}

function writeOut(text: string): void {
  if (isNode()) process.stdout.write(text);
  else console.log(text);
}
