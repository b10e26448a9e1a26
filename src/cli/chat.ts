// `hearth chat`: a terminal conversation. Each line you type is a user message; the assistant's reply
// streams back. With a model that has no chat template (a base model), each line is appended to one running
// text and continued, like the demo page does.
//
// The transcript goes to stdout ("> " + your line, then the reply); notices go to stderr. When stdin is a
// terminal, readline shows the "> " prompt and echoes; when it is piped, each line is echoed after "> ", so a
// piped session prints the same transcript. /reset forgets the conversation, /exit quits; Ctrl-C stops a
// reply, and a second Ctrl-C (or one at the prompt) quits.
//
// --tools FILE (a JSON array of OpenAI tools, or { "tools": [...] }) lets the model call them: calls are written in
// its template's syntax, constrained as chat.completions constrains them (tool_choice 'auto'); each call is listed
// on stderr (--tool-choice required|none|NAME as OpenAI's tool_choice), and `/result TEXT` answers the last one as a role 'tool' message, after which the model replies.
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createEngine } from '../engine/page/engine';
import type { Engine } from '../engine/api';
import type { ChatMessage, GenerateOptions, GenerationResult, TokenStream } from '../engine/types';
import { InvalidRequestError } from '../errors';
import { detectToolFormat, type ChatToolCall, type ToolFormat } from '../engine/tools/formats';
import { toolMessage, toolRequest, type ToolRequest } from '../engine/tools/openai-tools';
import { shapeToolMessages } from '../engine/tools/shape';
import { GENERATION_OPTIONS, generationOptions, loadOptions, parseCommand, terminalProgress } from './args';

const HELP = 'Type a message and press Enter. /reset clears the conversation, /exit quits; Ctrl-C stops a reply.';

export async function chatCommand(args: string[]): Promise<number> {
  const { model, values, fetch } = parseCommand('chat', args, {
    system: { type: 'string' },
    tools: { type: 'string' },
    'tool-choice': { type: 'string' },
    ...GENERATION_OPTIONS,
    verbose: { type: 'boolean', default: false },
  });
  const options = generationOptions(values);
  const engine = await createEngine(model, { ...loadOptions(values), ...fetch, onProgress: terminalProgress() });
  try {
    const info = engine.model;
    const say = (line: string) => process.stderr.write(`${line}\n`);
    say(`${info.name} (${info.architecture}), ${info.contextLength} positions of context. ${HELP}`);
    const calling = values.tools !== undefined ? await toolsFrom(values.tools, info.chatTemplate, values['tool-choice']) : undefined;
    if (values['tool-choice'] !== undefined && !calling) throw new InvalidRequestError('--tool-choice needs --tools');
    if (calling?.request.spec) options.responseFormat = { type: 'tool_calls', spec: calling.request.spec };
    if (calling) say(`Tools: ${calling.request.tools.map((t) => t.function.name).join(', ')} (${calling.format.name} format). /result TEXT answers a call.`);
    const conversation = info.chatTemplate ? new TemplateConversation(engine, values.system, calling && { ...calling, say }) : new TextConversation(engine, values.system);
    if (!info.chatTemplate) say(`${info.name} has no chat template (a base model): each line you type is continued as plain text.`);
    return await converse(conversation, options, values.verbose!, say);
  } finally {
    await engine.dispose();
  }
}

/** One way of turning a typed line into a generation, and of remembering the turn. */
interface Conversation {
  reply(line: string, options: GenerateOptions): TokenStream;
  /** Records the finished turn; an empty reply that was stopped takes the user's line back. */
  commit(line: string, result: GenerationResult): void;
  /** Takes back the user's line of a turn that failed. */
  rollback(): void;
  reset(): Promise<void>;
}

/** The tools file: OpenAI tools, checked as chat.completions checks them. */
async function toolsFrom(path: string, template: string | undefined, choice: string | undefined): Promise<{ format: ToolFormat; request: ToolRequest }> {
  if (!template) throw new InvalidRequestError('--tools needs a model with a chat template');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new InvalidRequestError(`--tools ${path}: not a JSON file of tools (${e instanceof Error ? e.message : String(e)})`);
  }
  const tools = Array.isArray(json) ? json : (json as { tools?: unknown } | null)?.tools;
  const format = detectToolFormat(template);
  const named = choice !== undefined && !['auto', 'none', 'required'].includes(choice);
  const request = toolRequest({ tools, tool_choice: named ? { type: 'function', function: { name: choice } } : choice }, format);
  if (!request) throw new InvalidRequestError(`--tools ${path}: expected a non-empty array of tools (or { "tools": [...] })`);
  return { format, request };
}

/** Messages rendered by the model's chat template. */
class TemplateConversation implements Conversation {
  private messages: ChatMessage[] = [];
  /** The calls of the last reply that still wait for a /result. */
  private pending: ChatToolCall[] = [];
  constructor(private readonly engine: Engine, private readonly system: string | undefined, private readonly calling?: { format: ToolFormat; request: ToolRequest; say: (line: string) => void }) { this.messages = this.initial(); }
  private initial(): ChatMessage[] { return this.system ? [{ role: 'system', content: this.system }] : []; }
  reply(line: string, options: GenerateOptions): TokenStream {
    const result = /^\/result\s+([^]*)$/.exec(line);
    const call = result && this.pending.shift();
    this.messages.push(call ? { role: 'tool', tool_call_id: call.id, name: call.function.name, content: result[1]! } : { role: 'user', content: line });
    if (!this.calling) return this.engine.chat(this.messages, options);
    const shaped = shapeToolMessages(this.engine.model.chatTemplate, this.messages, this.calling.request.tools);
    return this.engine.chat(shaped.messages, { ...options, tools: shaped.tools });
  }
  commit(_line: string, r: GenerationResult): void {
    if (r.finishReason === 'abort' && r.text === '') { this.rollback(); return; }
    const m = this.calling ? toolMessage(this.calling.format, this.calling.request, r.text) : { content: r.text };
    const calls = (m.tool_calls ?? []).flatMap((c) => (c.type === 'function' ? [c] : []));
    this.messages.push({ role: 'assistant', content: m.content ?? '', ...(calls.length ? { tool_calls: calls } : {}) });
    this.pending = calls;
    for (const c of calls) this.calling!.say(`(tool call ${c.id}: ${c.function.name}(${JSON.stringify(JSON.parse(c.function.arguments))}); /result TEXT answers it)`);
  }
  rollback(): void { this.messages.pop(); }
  async reset(): Promise<void> { this.messages = this.initial(); await this.engine.resetContext(); }
}

/** A base model: one running text that the user and the model take turns extending. */
class TextConversation implements Conversation {
  private text: string;
  private before = '';
  constructor(private readonly engine: Engine, private readonly system: string | undefined) { this.text = this.initial(); }
  private initial(): string { return this.system ? `${this.system}\n` : ''; }
  reply(line: string, options: GenerateOptions): TokenStream {
    this.before = this.text;
    // A space between two words that would otherwise run together ("…the end. Then", not "…the end.Then").
    this.text += this.text !== '' && !/\s$/.test(this.text) && !/^\s/.test(line) ? ` ${line}` : line;
    return this.engine.generate(this.text, options);
  }
  commit(_line: string, r: GenerationResult): void { this.text += r.text; }
  rollback(): void { this.text = this.before; }
  async reset(): Promise<void> { this.text = this.initial(); await this.engine.resetContext(); }
}

async function converse(conversation: Conversation, options: GenerateOptions, verbose: boolean, say: (line: string) => void): Promise<number> {
  const interactive = !!(process.stdin.isTTY && process.stdout.isTTY);
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive, prompt: '> ' });
  let running: TokenStream | undefined;
  let stopping = false;
  let quit = false;
  const interrupt = () => {
    if (running && !stopping) {
      stopping = true;
      running.cancel();
    } else {
      quit = true;
      rl.close();
    }
  };
  rl.on('SIGINT', interrupt); // a terminal: readline turns Ctrl-C into this event
  process.on('SIGINT', interrupt); // piped input: the signal itself
  try {
    if (interactive) rl.prompt();
    for await (const line of rl) {
      const command = line.trim();
      if (command === '/exit' || command === '/quit') break;
      if (command === '/reset') {
        await conversation.reset();
        say('(conversation cleared)');
      } else if (/^\/\w+$/.test(command)) {
        say(`unknown command ${command}. ${HELP}`);
      } else if (command !== '') {
        if (!interactive) process.stdout.write(`> ${line}\n`);
        await turn(line);
      }
      if (quit) break;
      if (interactive) rl.prompt();
    }
  } finally {
    rl.off('SIGINT', interrupt);
    process.off('SIGINT', interrupt);
    rl.close();
  }
  return quit ? 130 : 0;

  async function turn(line: string): Promise<void> {
    try {
      running = conversation.reply(line, options);
      stopping = false;
      for await (const chunk of running) process.stdout.write(chunk.text);
      const r = await running.result;
      process.stdout.write('\n');
      conversation.commit(line, r);
      if (r.finishReason === 'abort') say('(stopped)');
      if (verbose) {
        say(`[${r.promptTokens.length} prompt tokens (${r.prefillTokens} computed), ${r.tokens.length} generated, ${r.finishReason}, ${r.decodeTokensPerSecond.toFixed(1)} tokens/s]`);
      }
    } catch (e) {
      // A turn the engine refuses (context full, the template rejects the conversation): say why, keep going.
      if (!(e instanceof InvalidRequestError)) throw e;
      conversation.rollback();
      say(`hearth: ${e.message}${/context/.test(e.message) ? ' (/reset starts over)' : ''}`);
    } finally {
      running = undefined;
    }
  }
}
