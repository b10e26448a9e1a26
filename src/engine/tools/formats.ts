// The one place that knows how each chat template writes tool calls. The format is detected from the template's
// source, as llama.cpp's common/chat.cpp does; each format says how a call is written (so that the grammar can
// force it, the parser can read it back, and a template that does not render tool_calls itself gets the calls
// written into the assistant's content). Templates that know no tools get the generic format: the tools are
// described in the system prompt and a call is a JSON object {"tool_calls": [{"name", "arguments"}]}.

/** A tool as OpenAI's `tools` lists it (type 'function'). */
export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean | null };
}

/** A call as an assistant message carries it (OpenAI's shape; arguments a JSON string). */
export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ToolFormat {
  /** Which family: 'hermes' (Qwen2.5, Qwen3, Hermes 2/3, SmolLM3, Granite 4), 'llama3', 'mistral', 'granite', 'functionary', 'generic'. */
  name: 'hermes' | 'llama3' | 'mistral' | 'granite' | 'functionary' | 'generic';
  /** The calls are written head + call (sep call)* + tail. */
  head: string;
  sep: string;
  tail: string;
  /** A call: callPrefix(name) + arguments JSON + (for Mistral: `, "id": "` + 9 letters/digits + `"`) + callSuffix. */
  callPrefix(name: string): string;
  callSuffix: string;
  /** Mistral's templates need each call's id, 9 letters or digits, written by the model after the arguments. */
  idLength: number;
  /** Under tool_choice 'auto', free text until this is written; from there the call is constrained. A prefix of head + callPrefix. */
  trigger: string;
  /** Whether the template can hold more than one call in a turn (Llama 3.1's raises on two). */
  parallel: boolean;
}

const hermes: ToolFormat = {
  name: 'hermes', head: '<tool_call>\n', sep: '\n</tool_call>\n<tool_call>\n', tail: '\n</tool_call>',
  callPrefix: (n) => `{"name": ${JSON.stringify(n)}, "arguments": `, callSuffix: '}', idLength: 0, trigger: '<tool_call>', parallel: true,
};
const llama3: ToolFormat = {
  name: 'llama3', head: '', sep: '', tail: '',
  callPrefix: (n) => `{"name": ${JSON.stringify(n)}, "parameters": `, callSuffix: '}', idLength: 0, trigger: '{"name": "', parallel: false,
};
const mistral: ToolFormat = {
  name: 'mistral', head: '[TOOL_CALLS][', sep: ', ', tail: ']',
  callPrefix: (n) => `{"name": ${JSON.stringify(n)}, "arguments": `, callSuffix: '"}', idLength: 9, trigger: '[TOOL_CALLS]', parallel: true,
};
const granite: ToolFormat = {
  name: 'granite', head: '<|tool_call|>[', sep: ', ', tail: ']',
  callPrefix: (n) => `{"name": ${JSON.stringify(n)}, "arguments": `, callSuffix: '}', idLength: 0, trigger: '<|tool_call|>', parallel: true,
};
const functionary: ToolFormat = {
  name: 'functionary', head: '', sep: '', tail: '',
  callPrefix: (n) => `<function=${n}>`, callSuffix: '</function>', idLength: 0, trigger: '<function=', parallel: true,
};
const generic: ToolFormat = {
  name: 'generic', head: '{"tool_calls": [', sep: ', ', tail: ']}',
  callPrefix: (n) => `{"name": ${JSON.stringify(n)}, "arguments": `, callSuffix: '}', idLength: 0, trigger: '{"tool_calls": [', parallel: true,
};

/** The tool-call format a chat template uses, from its source text. */
export function detectToolFormat(source: string | undefined): ToolFormat {
  const s = source ?? '';
  if (s.includes('[TOOL_CALLS]')) return mistral;
  if (s.includes('<|tool_call|>')) return granite;
  if (s.includes('<tool_call>')) return hermes;
  if (s.includes('<function=')) return functionary;
  if (s.includes('<|start_header_id|>ipython<|end_header_id|>') || s.includes('"parameters": dictionary of argument name')) return llama3;
  return generic;
}

/** Whether the template itself lists `tools` (otherwise Hearth describes them in the system prompt). */
export function templateKnowsTools(source: string): boolean {
  return /\btools\b/.test(source);
}

/** The text of `calls` in `format`, as the model writes it (arguments as JSON, ids as given). */
export function writeToolCalls(format: ToolFormat, calls: readonly ChatToolCall[]): string {
  const one = (c: ChatToolCall) => {
    const args = compactArguments(c.function.arguments);
    const id = format.idLength > 0 ? `, "id": "${c.id}` : '';
    return `${format.callPrefix(c.function.name)}${args}${id}${format.callSuffix}`;
  };
  return format.head + calls.map(one).join(format.sep) + format.tail;
}

/** Arguments as Python's json.dumps writes them (the templates' tojson): ", " and ": " separators. */
function compactArguments(args: string): string {
  try {
    return pythonJson(JSON.parse(args));
  } catch {
    return args;
  }
}

function pythonJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pythonJson(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

/** The system-prompt text of the generic format: the tools, and how to call them. */
export function genericToolPrompt(tools: readonly ChatTool[]): string {
  const list = tools.map((t) => JSON.stringify(t.function)).join('\n');
  return 'You can call these tools (JSON Schema of each one\'s arguments in "parameters"):\n'
    + `${list}\n`
    + 'To call tools, reply with only a JSON object: {"tool_calls": [{"name": <tool name>, "arguments": <arguments object>}]}. '
    + 'A tool\'s result comes back in a message {"tool_response": {"name": <tool name>, "content": <result>}}. Otherwise, answer in plain text.';
}

/** What the decoder needs to force a turn's tool calls: plain data (it crosses to the worker). */
export interface ToolCallSpec {
  /** 'required': the output is the calls; 'auto': free text until `trigger`, the calls from there. */
  mode: 'required' | 'auto';
  head: string;
  sep: string;
  tail: string;
  trigger: string;
  /** One per callable tool: the text before its arguments, their JSON schema, and the text after. */
  calls: { prefix: string; schema: Record<string, unknown>; suffix: string }[];
  /** Letters/digits of the id the model writes after the arguments (Mistral: 9), or 0. */
  idLength: number;
  /** More than one call allowed. */
  parallel: boolean;
}

/** Arguments of a tool that declares no `parameters`: an empty object. */
const NO_PARAMETERS = { type: 'object', properties: {}, additionalProperties: false };

/** The spec for calling `tools` (all of them, or the one named) in `format`. */
export function toolCallSpec(format: ToolFormat, tools: readonly { name: string; parameters?: Record<string, unknown> }[], mode: 'required' | 'auto', parallel: boolean): ToolCallSpec {
  return {
    mode, head: format.head, sep: format.sep, tail: format.tail, trigger: format.trigger, idLength: format.idLength,
    parallel: parallel && format.parallel,
    calls: tools.map((t) => ({ prefix: format.callPrefix(t.name), schema: t.parameters ?? NO_PARAMETERS, suffix: format.callSuffix })),
  };
}

