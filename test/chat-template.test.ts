// Chat templates: real models' templates rendered to the prompts their model cards document and to
// llama.cpp's own expectations (tests/test-chat-template.cpp), rendered prompts tokenized exactly as
// llama.cpp tokenizes them (node-llama-cpp on the real vocabularies), end-of-turn stop tokens, and the
// engine's chat path on tiny models that carry a template.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { createEngine, FormatError, InvalidRequestError } from '../src/index';
import { openFileSource } from '../src/io/file-source';
import { readGGUF, type GGUFValue } from '../src/model/gguf';
import { tokenizerFromGGUF, type Tokenizer } from '../src/tokenizer';
import { ChatTemplate, chatStopTokens, encodeChatPrompt, type ChatMessage } from '../src/tokenizer/chat-template';
import { fixturePath } from './helpers/fixtures';
import { tinyChatModel } from './helpers/tiny-chat-model';

// Templates as the models ship them (the `chat_template` of each tokenizer_config.json on the Hugging Face
// hub; llama.cpp keeps copies in models/templates/ and tests/test-chat-template.cpp).
const TEMPLATES = {
  /** meta-llama/Meta-Llama-3-8B-Instruct */
  llama3: "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
  /** google/gemma-2-2b-it (gemma-7b-it differs only in lacking the leading bos_token) */
  gemma: "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
  /** microsoft/Phi-3.5-mini-instruct */
  phi35: "{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}",
  /** microsoft/Phi-3-mini-4k-instruct (first release: no system role) */
  phi3mini: "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}",
  /** mistralai/Mistral-7B-Instruct-v0.2 */
  mistral: "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
  /** meta-llama/Llama-2-7b-chat-hf */
  llama2: "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
  /** teknium/OpenHermes-2.5-Mistral-7B (plain ChatML) */
  chatml: "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  /** Infinigence/Megrez-3B-Instruct: ends turns with '<|turn_end|>', which no vocabulary declares as EOT */
  megrez: "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|role_start|>system<|role_end|>你是Megrez-3B-Instruct，将针对用户的问题给出详细的、积极的回答。<|turn_end|>' }}{% endif %}{{ '<|role_start|>' + message['role'] + '<|role_end|>' + message['content'] + '<|turn_end|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|role_start|>assistant<|role_end|>' }}{% endif %}",
};

const vocabFile = (name: string) => fixturePath('models', 'llama-cpp-vocab', `ggml-vocab-${name}.gguf`);

async function metadataOf(path: string): Promise<Map<string, GGUFValue>> {
  const source = await openFileSource(path);
  try { return (await readGGUF(source)).metadata; } finally { await source.close(); }
}

/** Building a 150k-token vocabulary takes seconds: each is built once per file. */
const vocabularies = new Map<string, Promise<{ metadata: Map<string, GGUFValue>; tok: Tokenizer }>>();
function vocabulary(name: string): Promise<{ metadata: Map<string, GGUFValue>; tok: Tokenizer }> {
  if (!vocabularies.has(name)) vocabularies.set(name, metadataOf(vocabFile(name)).then((metadata) => ({ metadata, tok: tokenizerFromGGUF(metadata) })));
  return vocabularies.get(name)!;
}

const sys = (content: string): ChatMessage => ({ role: 'system', content });
const user = (content: string): ChatMessage => ({ role: 'user', content });
const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });

describe('rendered prompts equal the formats the model cards document', () => {
  test('Llama 3: header blocks, <|eot_id|> after each turn, BOS once at the start', () => {
    const t = new ChatTemplate(TEMPLATES.llama3, { bosToken: '<|begin_of_text|>', eosToken: '<|end_of_text|>' });
    assert.equal(
      t.render([sys('You are a helpful AI assistant.'), user('What is France\'s capital?')], { addGenerationPrompt: true }),
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful AI assistant.<|eot_id|>'
      + '<|start_header_id|>user<|end_header_id|>\n\nWhat is France\'s capital?<|eot_id|>'
      + '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    assert.equal(t.render([user('Hi')]), '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>', 'no generation prompt unless asked');
  });

  test('ChatML (Qwen2, template read from the real GGUF): default system prompt when none is given', async () => {
    const source = (await metadataOf(vocabFile('qwen2'))).get('tokenizer.chat_template') as string;
    const t = new ChatTemplate(source, { eosToken: '<|endoftext|>' });
    assert.equal(
      t.render([user('Give me a short introduction to large language model.')], { addGenerationPrompt: true }),
      '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nGive me a short introduction to large language model.<|im_end|>\n<|im_start|>assistant\n',
    );
    assert.equal(
      t.render([sys('Be brief.'), user('Hi')], { addGenerationPrompt: true }),
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('Gemma: <start_of_turn>user / model, <end_of_turn>; a system message goes in front of the first user turn', () => {
    const t = new ChatTemplate(TEMPLATES.gemma, { bosToken: '<bos>', eosToken: '<eos>' });
    assert.equal(t.supportsSystemRole, false);
    assert.equal(
      t.render([user('knock knock'), assistant('who is there'), user('LaMDA')], { addGenerationPrompt: true }),
      '<bos><start_of_turn>user\nknock knock<end_of_turn>\n<start_of_turn>model\nwho is there<end_of_turn>\n<start_of_turn>user\nLaMDA<end_of_turn>\n<start_of_turn>model\n',
    );
    assert.equal(
      t.render([sys('Answer in French.'), user('Hello')], { addGenerationPrompt: true }),
      '<bos><start_of_turn>user\nAnswer in French.\nHello<end_of_turn>\n<start_of_turn>model\n',
    );
  });

  test('Phi-3.5: <|system|> / <|user|> / <|assistant|> blocks closed by <|end|>', () => {
    const t = new ChatTemplate(TEMPLATES.phi35, { bosToken: '<s>', eosToken: '<|endoftext|>' });
    assert.equal(
      t.render([sys('You are a helpful assistant.'), user('How to explain Internet for a medieval knight?')], { addGenerationPrompt: true }),
      '<|system|>\nYou are a helpful assistant.<|end|>\n<|user|>\nHow to explain Internet for a medieval knight?<|end|>\n<|assistant|>\n',
    );
    assert.equal(t.render([user('Hi')]), '<|user|>\nHi<|end|>\n<|endoftext|>', 'without a generation prompt the template closes with EOS');
  });

  test('Mistral: [INST] … [/INST], the answer closed by </s>', () => {
    const t = new ChatTemplate(TEMPLATES.mistral, { bosToken: '<s>', eosToken: '</s>' });
    const answer = "Well, I'm quite partial to a good squeeze of fresh lemon juice.";
    assert.equal(
      t.render([user('What is your favourite condiment?'), assistant(answer), user('Do you have mayonnaise recipes?')], { addGenerationPrompt: true }),
      `<s>[INST] What is your favourite condiment? [/INST]${answer}</s>[INST] Do you have mayonnaise recipes? [/INST]`,
    );
  });

  test('Llama 2 chat: <<SYS>> block inside the first [INST], BOS before every user turn', () => {
    const t = new ChatTemplate(TEMPLATES.llama2, { bosToken: '<s>', eosToken: '</s>' });
    assert.equal(
      t.render([sys('Answer briefly.'), user('Hi there'), assistant('Hello! '), user('Who are you?')], { addGenerationPrompt: true }),
      '<s>[INST] <<SYS>>\nAnswer briefly.\n<</SYS>>\n\nHi there [/INST] Hello! </s><s>[INST] Who are you? [/INST]',
    );
  });
});

describe("llama.cpp's chat template expectations (test-chat-template.cpp, its jinja path)", () => {
  const conversation = [
    sys('You are a helpful assistant'), user('Hello'), assistant('Hi there'),
    user('Who are you'), assistant('   I am an assistant   '), user('Another question'),
  ];
  const cases: [string, string, { bosToken?: string; eosToken?: string }, string][] = [
    ['OpenHermes ChatML', TEMPLATES.chatml, {}, '<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n'],
    ['Mistral v0.2 (system merged into the first user turn)', TEMPLATES.mistral, { eosToken: '</s>' }, '[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]'],
    ['Gemma (system merged)', TEMPLATES.gemma, {}, '<start_of_turn>user\nYou are a helpful assistant\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n'],
    ['Llama 3', TEMPLATES.llama3, {}, '<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'],
    ['Phi-3-mini (drops system messages, so it is merged)', TEMPLATES.phi3mini, {}, '<|user|>\nYou are a helpful assistant\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n'],
    ['Megrez', TEMPLATES.megrez, {}, '<|role_start|>system<|role_end|>You are a helpful assistant<|turn_end|><|role_start|>user<|role_end|>Hello<|turn_end|><|role_start|>assistant<|role_end|>Hi there<|turn_end|><|role_start|>user<|role_end|>Who are you<|turn_end|><|role_start|>assistant<|role_end|>   I am an assistant   <|turn_end|><|role_start|>user<|role_end|>Another question<|turn_end|><|role_start|>assistant<|role_end|>'],
  ];
  for (const [name, source, tokens, expected] of cases) {
    test(name, () => assert.equal(new ChatTemplate(source, tokens).render(conversation, { addGenerationPrompt: true }), expected));
  }
});

describe('template errors are typed', () => {
  test("the template's raise_exception becomes an InvalidRequestError with its message", () => {
    const t = new ChatTemplate(TEMPLATES.mistral, { bosToken: '<s>', eosToken: '</s>' });
    assert.throws(() => t.render([user('a'), user('b')]), (e: unknown) => e instanceof InvalidRequestError && /roles must alternate/.test(e.message));
  });
  test('malformed messages and unparsable templates', () => {
    const t = new ChatTemplate(TEMPLATES.chatml);
    assert.throws(() => t.render([]), InvalidRequestError);
    assert.throws(() => t.render([{ role: 'user' } as ChatMessage]), /messages\[0\] must be \{ role: string, content: string \}/);
    assert.throws(() => new ChatTemplate('{% for m in messages %}{{ m.content }'), FormatError);
  });
});

describe('rendered prompts tokenize exactly as llama.cpp tokenizes them (parse_special, one BOS)', () => {
  let llama: Llama;
  before(async () => { llama = await getLlama({ build: 'never', gpu: false, logLevel: LlamaLogLevel.error, progressLogs: false }); });
  after(async () => { await llama?.dispose(); });

  /** llama.cpp's chat path (common/chat.cpp): strip a leading BOS text when the vocabulary adds BOS, then tokenize with add_special and parse_special. */
  async function llamaCppChatTokens(path: string, tok: Tokenizer, text: string): Promise<number[]> {
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
    try {
      const addBos = tok.encode('', { addEos: false }).length === 1;
      const bosText = tok.bosId === undefined ? '' : tok.tokenText(tok.bosId);
      const body = addBos && bosText && text.startsWith(bosText) ? text.slice(bosText.length) : text;
      return [...(addBos ? [tok.bosId!] : []), ...model.tokenize(body, true).map(Number)];
    } finally {
      await model.dispose();
    }
  }

  const conversation = [sys('You are a helpful assistant'), user('Hello, how are you?'), assistant(' Fine, thanks! '), user('Tell me a joke\nabout cats.')];
  const cases: [string, keyof typeof TEMPLATES | 'file'][] = [['qwen2', 'file'], ['llama-bpe', 'llama3'], ['llama-spm', 'llama2'], ['llama-spm', 'mistral']];
  for (const [vocab, which] of cases) {
    test(`${vocab} vocabulary with the ${which === 'file' ? "file's own" : which} template`, async () => {
      const { metadata, tok } = await vocabulary(vocab);
      const source = which === 'file' ? metadata.get('tokenizer.chat_template') as string : TEMPLATES[which];
      const template = new ChatTemplate(source, { bosToken: tok.bosId === undefined ? '' : tok.tokenText(tok.bosId), eosToken: tok.tokenText(tok.eosIds[0]!) });
      const text = template.render(which === 'mistral' ? conversation.slice(1) : conversation, { addGenerationPrompt: true });
      const ids = encodeChatPrompt(tok, text);
      assert.deepEqual(ids, await llamaCppChatTokens(vocabFile(vocab), tok, text));
      if (tok.bosId !== undefined && ids[0] === tok.bosId) assert.notEqual(ids[1], tok.bosId, 'no double BOS');
    });
  }

  test('stop tokens: the template\'s end-of-turn token although the file declares no EOT, and all of them end generation in llama.cpp', async () => {
    for (const [vocab, which, endOfTurn] of [['qwen2', 'file', '<|im_end|>'], ['llama-bpe', 'llama3', '<|eot_id|>']] as const) {
      const { metadata, tok } = await vocabulary(vocab);
      assert.equal(metadata.get('tokenizer.ggml.eot_token_id'), undefined, `${vocab} declares no EOT`);
      const template = new ChatTemplate(which === 'file' ? metadata.get('tokenizer.chat_template') as string : TEMPLATES[which]);
      assert.equal(template.assistantTurnEnd(), endOfTurn);
      const stops = chatStopTokens(tok, template);
      assert.ok(stops.some((id) => tok.tokenText(id) === endOfTurn), `${vocab}: ${stops.map((id) => tok.tokenText(id))}`);
      assert.ok(tok.eosIds.every((id) => stops.includes(id)));
      const model = await llama.loadModel({ modelPath: vocabFile(vocab), vocabOnly: true });
      for (const id of stops) assert.ok(model.isEogToken(id as never), `${vocab}: llama.cpp does not stop at ${tok.tokenText(id)}`);
      await model.dispose();
    }
  });
});

describe('engine.chat on tiny models with a template', () => {
  const CHATML_CONTROLS = ['<|im_end|>', '<|im_start|>'];

  test('the prompt is the rendered template tokenized with its control tokens; the reply stops at <|im_end|>', async () => {
    const engine = await createEngine(tinyChatModel(TEMPLATES.chatml, CHATML_CONTROLS, { silent: true }));
    try {
      assert.equal(engine.model.chatTemplate, TEMPLATES.chatml);
      const messages = [sys('Be kind.'), user('Hi!')];
      const text = await engine.applyChatTemplate(messages, { addGenerationPrompt: true });
      assert.equal(text, '<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n');
      const stream = engine.chat(messages, { maxTokens: 8 });
      for await (const _ of stream) { /* drain */ }
      const r = await stream.result;
      const [imEnd, imStart, , bos] = [0, 1, 2, 3];
      assert.equal(r.promptTokens[0], bos, 'the vocabulary adds BOS; the template wrote none');
      assert.deepEqual(r.promptTokens.filter((id) => id === imStart || id === imEnd), [imStart, imEnd, imStart, imEnd, imStart]);
      // <|im_end|> is neither EOS nor a declared EOT: only the chat path stops there.
      assert.equal(r.finishReason, 'stop');
      assert.deepEqual(r.tokens, []);
      const plain = engine.generate('Hi', { maxTokens: 3 });
      const p = await plain.result;
      assert.deepEqual([p.finishReason, p.tokens], ['length', [imEnd, imEnd, imEnd]]);
    } finally {
      await engine.dispose();
    }
  });

  test('a template whose end-of-turn token is known only from the template itself (Megrez <|turn_end|>)', async () => {
    const engine = await createEngine(tinyChatModel(TEMPLATES.megrez, ['<|turn_end|>', '<|role_start|>', '<|role_end|>'], { silent: true }));
    try {
      const r = await engine.chat([user('Hi')], { maxTokens: 4 }).result;
      assert.equal(r.finishReason, 'stop');
      assert.deepEqual(r.tokens, []);
    } finally {
      await engine.dispose();
    }
  });

  test('a conversation grows turn by turn and reuses the cached prefix', async () => {
    const engine = await createEngine(tinyChatModel(TEMPLATES.chatml, CHATML_CONTROLS));
    try {
      const messages = [user('Hello')];
      const first = await engine.chat(messages, { maxTokens: 5 }).result;
      assert.equal(first.prefillTokens, first.promptTokens.length);
      messages.push(assistant(first.text), user('And now?'));
      const second = await engine.chat(messages, { maxTokens: 5 }).result;
      assert.deepEqual(second.promptTokens.slice(0, first.promptTokens.length), first.promptTokens);
      assert.ok(second.prefillTokens <= second.promptTokens.length - first.promptTokens.length, `prefilled ${second.prefillTokens} of ${second.promptTokens.length}`);
    } finally {
      await engine.dispose();
    }
  });

  test('a base model has no chat template: chat() says so, generate() still continues text', async () => {
    const engine = await createEngine(fixturePath('models/stories260K/stories260K.gguf'), { contextLength: 64 });
    try {
      assert.equal(engine.model.chatTemplate, undefined);
      const noTemplate = (e: unknown) => e instanceof InvalidRequestError && /has no chat template/.test(e.message) && /base model/.test(e.message);
      await assert.rejects(engine.chat([user('Hi')]).result, noTemplate);
      await assert.rejects(engine.applyChatTemplate([user('Hi')]), noTemplate);
      const r = await engine.generate('Once upon a time', { maxTokens: 5 }).result;
      assert.equal(r.tokens.length, 5);
    } finally {
      await engine.dispose();
    }
  });
});
