// Compile-time checks against the `openai` package's own types (a devDependency; nothing here runs): `tsc`
// (npm test's first step) fails if Hearth's shapes drift from the SDK's.
//  - Every Hearth response, with 'abort' taken out of finish_reason, is assignable to the SDK's type, and the
//    SDK's type is assignable to Hearth's: the same shape, widened by exactly that value.
//  - The SDK's request parameter types are accepted by engine.chat.completions.create / completions.create.
// test/engine-api.test.ts routes real responses through `asSdk*` so the checks apply to values the engine made.
import type { ChatCompletion as SdkChatCompletion, ChatCompletionChunk as SdkChatCompletionChunk, ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { Completion as SdkCompletion, CompletionCreateParamsNonStreaming, CompletionCreateParamsStreaming } from 'openai/resources/completions';
import type { ChatCompletionCreateParamsBase as SdkChatParams } from 'openai/resources/chat/completions';
import type { CompletionCreateParamsBase as SdkCompletionParams } from 'openai/resources/completions';
import type { CHAT_PARAMS, COMPLETION_PARAMS, REFUSED_CHAT_PARAMS } from '../../src/engine/openai/params';
import type { ChatCompletion, ChatCompletionChunk, Completion, Engine } from '../../src/index';

type Choice<T extends { choices: unknown[] }> = T['choices'][number];
/** T with 'abort' removed from its choices' finish_reason. */
type NoAbort<T extends { choices: { finish_reason: unknown }[] }> = Omit<T, 'choices'> & {
  choices: (Omit<Choice<T>, 'finish_reason'> & { finish_reason: Exclude<Choice<T>['finish_reason'], 'abort'> })[];
};

type Assignable<From, To> = [From] extends [To] ? true : false;
const checks: [
  Assignable<NoAbort<ChatCompletion>, SdkChatCompletion>,
  Assignable<SdkChatCompletion, ChatCompletion>,
  Assignable<NoAbort<ChatCompletionChunk>, SdkChatCompletionChunk>,
  Assignable<SdkChatCompletionChunk, ChatCompletionChunk>,
  Assignable<NoAbort<Completion>, SdkCompletion>,
  Assignable<SdkCompletion, Completion>,
  // 'abort' is the one value the SDK lacks:
  Assignable<ChatCompletion, SdkChatCompletion> extends false ? true : false,
  Assignable<'abort', Choice<ChatCompletion>['finish_reason']>,
] = [true, true, true, true, true, true, true, true];
void checks;

/** Code written against the SDK's parameter types compiles against the engine. */
export function sdkParamsAccepted(engine: Engine, chat: ChatCompletionCreateParamsNonStreaming, chatStream: ChatCompletionCreateParamsStreaming, completion: CompletionCreateParamsNonStreaming, completionStream: CompletionCreateParamsStreaming) {
  return [engine.chat.completions.create(chat), engine.chat.completions.create(chatStream), engine.completions.create(completion), engine.completions.create(completionStream)] as const;
}

/** A finished response as the SDK would type it (finish_reason 'abort' excepted). */
export function asSdkChatCompletion(c: ChatCompletion): SdkChatCompletion | 'abort' {
  const choice = c.choices[0];
  if (!choice || choice.finish_reason === 'abort') return 'abort';
  const { choices: _, ...rest } = c;
  const typed: SdkChatCompletion = { ...rest, choices: [{ ...choice, finish_reason: choice.finish_reason }] };
  return typed;
}

export function asSdkChunk(c: ChatCompletionChunk): SdkChatCompletionChunk | 'abort' {
  if (c.choices.some((x) => x.finish_reason === 'abort')) return 'abort';
  return c as NoAbort<ChatCompletionChunk>;
}

export function asSdkCompletion(c: Completion): SdkCompletion | 'abort' {
  if (c.choices.some((x) => x.finish_reason === 'abort')) return 'abort';
  return c as NoAbort<Completion>;
}

// Every parameter the SDK can send is either honoured or refused by name (src/engine/openai/params.ts):
// a parameter added to a newer SDK fails this check until Hearth decides which.
type ChatNames = (typeof CHAT_PARAMS)[number] | keyof typeof REFUSED_CHAT_PARAMS;
type CompletionNames = (typeof COMPLETION_PARAMS)[number];
type NoneLeft<T> = [T] extends [never] ? true : { uncovered: T };
const covered: [NoneLeft<Exclude<keyof SdkChatParams, ChatNames>>, NoneLeft<Exclude<keyof SdkCompletionParams, CompletionNames>>] = [true, true];
void covered;
