// One reply from the engine for a conversation, shared by the chat app and <hearth-chat>.
// A model with a chat template answers the messages through engine.chat; a base model (no template, like
// the bundled stories260K) continues the running text of the conversation, so each reply continues what
// came before. The engine leaves out the oldest messages (or text) when the conversation no longer fits the context.
import type { ChatMessage, Engine, GenerateOptions, GenerationResult, TokenStream } from '../../src/index';

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
  /** What the context could not hold, left out by the engine (truncation 'auto'): the oldest messages of `history`... */
  droppedMessages: number;
  /** ...or, for a base model's running text, its oldest tokens. */
  droppedTokens: number;
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
function joinText(context: string, text: string): string {
  const needsSpace = context !== '' && !/\s$/.test(context) && !/^\s/.test(text);
  return needsSpace ? ' ' + text : text;
}

/** The running text a base model continues: the system text, then every message in order. */
function continuationPrompt(system: string, history: Message[]): string {
  let text = system.trim() === '' ? '' : system.trimEnd() + '\n\n';
  for (const m of history) text += m.role === 'user' ? joinText(text, m.content.trimEnd()) : m.content;
  return text;
}

/** The conversation as chat messages; the engine fits the system message to the template (some take none). */
function chatMessages(system: string, history: Message[]): ChatMessage[] {
  return system.trim() ? [{ role: 'system', content: system }, ...history] : [...history];
}

/**
 * Starts a reply; `cancel()` stops it within a token (the outcome's finishReason is then 'abort'). One request
 * per reply (two with a tool call): the engine leaves out what no longer fits the context (truncation 'auto').
 */
export function runTurn(request: TurnRequest): Turn {
  let stream: TokenStream | undefined;
  let cancelled = false;
  const pipe = async (s: TokenStream) => {
    stream = s;
    if (cancelled) s.cancel();
    for await (const chunk of s) request.onText?.(chunk.text, chunk.token);
  };
  const done = (async (): Promise<TurnOutcome> => {
    const { engine, system, history } = request;
    const mode: TurnOutcome['mode'] = engine.model.chatTemplate ? 'chat' : 'continue';
    const options: GenerateOptions = { ...request.options, truncation: 'auto' };
    let result: GenerationResult;
    if (mode === 'chat' && request.tools) {
      // Loaded when switched on: <hearth-chat>, which shares this file, never needs it.
      const { toolTurn } = await import('./tools');
      if (cancelled) throw abortError();
      result = await toolTurn(engine, chatMessages(system, history), options, pipe, (text) => request.onText?.(text, -1));
    } else {
      const s = mode === 'chat' ? engine.chat(chatMessages(system, history), options) : engine.generate(continuationPrompt(system, history), options);
      await pipe(s);
      result = await s.result;
    }
    return { result, droppedMessages: result.truncatedMessages ?? 0, droppedTokens: result.truncatedTokens ?? 0, mode };
  })();
  return {
    done,
    cancel: () => { cancelled = true; stream?.cancel(); },
  };
}

/** What the engine left out of the conversation to fit the model's context, as a note for the reader. */
export function leftOutNotice({ droppedMessages, droppedTokens }: TurnOutcome): string | undefined {
  const what = droppedMessages > 0 ? `The ${droppedMessages} oldest messages` : droppedTokens > 0 ? `The oldest ${droppedTokens} tokens of the conversation` : '';
  return what && `${what} no longer fit in the model's context (fresh context): the model did not see them for this reply.`;
}

function abortError(): Error {
  const e = new Error('The reply was stopped.');
  e.name = 'AbortError';
  return e;
}
