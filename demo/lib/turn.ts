// One reply from the engine for a conversation, shared by the chat app and <hearth-chat>.
// A model with a chat template answers the messages through engine.chat; a base model (no template, like
// the bundled stories260K) continues the running text of the conversation, so each reply continues what
// came before. Older messages are left out when the conversation no longer fits the context.
import type { ChatMessage, Engine, GenerateOptions, GenerationResult, TokenStream } from '../../src/index';
import { InvalidRequestError } from '../../src/index';

export interface Message { role: 'user' | 'assistant'; content: string }

export interface TurnRequest {
  engine: Engine;
  system: string;
  /** The conversation so far, ending with the user's message to answer. */
  history: Message[];
  options: GenerateOptions;
  /** Each piece of streamed text (a token's worth; '' while a character is incomplete). */
  onText?: (delta: string, token: number) => void;
  /** Let a model with a chat template call the example tools (tools.ts): the reply then shows each call and its result. */
  tools?: boolean;
}

export interface TurnOutcome {
  result: GenerationResult;
  /** Messages of `history` left out because they no longer fit in the context. */
  dropped: number;
  /** 'chat' = the model's chat template; 'continue' = running text of a base model. */
  mode: 'chat' | 'continue';
}

export interface Turn {
  readonly done: Promise<TurnOutcome>;
  cancel(): void;
}

/**
 * The user's text as it joins a running text: a space goes between two words that would otherwise run
 * together, so the model sees "…the end. Then" and not "…the end.Then".
 */
export function joinText(context: string, text: string): string {
  const needsSpace = context !== '' && !/\s$/.test(context) && !/^\s/.test(text);
  return needsSpace ? ' ' + text : text;
}

/** The running text a base model continues: the system text, then every message in order. */
export function continuationPrompt(system: string, history: Message[]): string {
  let text = system.trim() === '' ? '' : system.trimEnd() + '\n\n';
  for (const m of history) text += m.role === 'user' ? joinText(text, m.content.trimEnd()) : m.content;
  return text;
}

async function chatMessages(engine: Engine, system: string, history: Message[]): Promise<ChatMessage[]> {
  const withSystem: ChatMessage[] = system.trim() ? [{ role: 'system', content: system }, ...history] : [...history];
  if (!system.trim()) return withSystem;
  try {
    await engine.applyChatTemplate(withSystem);
    return withSystem;
  } catch {
    // Some templates (Gemma's) refuse a system role: it goes in front of the first user message instead.
    const [first, ...rest] = history;
    return first ? [{ role: 'user', content: `${system}\n\n${first.content}` }, ...rest] : [];
  }
}

async function promptTokens(engine: Engine, mode: TurnOutcome['mode'], system: string, history: Message[]): Promise<number> {
  const text = mode === 'chat'
    ? await engine.applyChatTemplate(await chatMessages(engine, system, history))
    : continuationPrompt(system, history);
  return (await engine.tokenize(text)).length;
}

/** Starts a reply; `cancel()` stops it within a token (the outcome's finishReason is then 'abort'). */
export function runTurn(request: TurnRequest): Turn {
  let stream: TokenStream | undefined;
  let cancelled = false;
  const done = (async (): Promise<TurnOutcome> => {
    const { engine, system, options } = request;
    const mode: TurnOutcome['mode'] = engine.model.chatTemplate ? 'chat' : 'continue';
    const context = engine.model.contextLength;
    const wanted = options.maxTokens ?? 256;
    // Leave out the oldest messages until the prompt and at least some reply fit.
    let history = request.history;
    let tokens = await promptTokens(engine, mode, system, history);
    while (tokens + Math.min(wanted, 64) > context && history.length > 1) {
      history = history.slice(history[0]!.role === 'user' && history.length > 2 ? 2 : 1);
      tokens = await promptTokens(engine, mode, system, history);
    }
    const room = context - tokens;
    if (room <= 0) throw new InvalidRequestError(`your message is ${tokens} tokens, but the model's context holds ${context}; shorten it`);
    const generateOptions = { ...options, maxTokens: Math.min(wanted, room) };
    if (cancelled) throw abortError();
    const dropped = request.history.length - history.length;
    if (mode === 'chat' && request.tools) {
      // Loaded when switched on: <hearth-chat>, which shares this file, never needs it.
      const { toolTurn } = await import('./tools');
      const pipe = async (s: TokenStream) => {
        stream = s;
        if (cancelled) s.cancel();
        for await (const chunk of s) request.onText?.(chunk.text, chunk.token);
      };
      const result = await toolTurn(engine, await chatMessages(engine, system, history), generateOptions, pipe, (text) => request.onText?.(text, -1));
      return { result, dropped, mode };
    }
    stream = mode === 'chat'
      ? engine.chat(await chatMessages(engine, system, history), generateOptions)
      : engine.generate(continuationPrompt(system, history), generateOptions);
    if (cancelled) stream.cancel();
    for await (const chunk of stream) request.onText?.(chunk.text, chunk.token);
    return { result: await stream.result, dropped: request.history.length - history.length, mode };
  })();
  return {
    done,
    cancel: () => { cancelled = true; stream?.cancel(); },
  };
}

function abortError(): Error {
  const e = new Error('The reply was stopped.');
  e.name = 'AbortError';
  return e;
}
