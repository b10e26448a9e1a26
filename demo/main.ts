// The chat app: conversations kept in IndexedDB, one model loaded in the engine's worker, replies streamed
// as sanitized markdown. No framework: elements from index.html, state as attributes on <body>
// (data-state: loading | ready | generating | error; data-turns counts finished turns, for tests).
import { createEngine, type Engine, type GenerateOptions } from '../src/index';
import { describeProgress, formatBytes, shortName } from './describe';
import { ModelDialog } from './lib/model-dialog';
import { backendOption, BUNDLED_MODEL, describeBackend, hubOption } from './lib/models';
import { byId, closeSidebarOnPhone, hideErrors, setStatus, showError, showState, toggleSidebar, ui, type PageState } from './lib/page';
import { RetrievalPanel } from './lib/retrieval-panel';
import { DecodeMeter, readOptions, showSettings, storeSettings } from './lib/settings-form';
import { ConversationStore, loadSettings, newConversation, saveSettings, titleFrom, type Conversation, type Settings } from './lib/store';
import { leftOutNotice, runTurn, type Message, type Turn } from './lib/turn';
import { MessageList, describeStats, renderConversationList } from './lib/view';
import { keepWasmBackendOffline, registerServiceWorker } from './pwa/register';

const settings: Settings = loadSettings({
  maxTokens: 256, temperature: 0, topK: 0, topP: 1, seed: 0, systemPrompt: '', theme: 'auto', model: BUNDLED_MODEL,
});

let engine: Engine | undefined;
let modelLabel = '';
let loadController: AbortController | undefined;
let lastSource: string | File | undefined;
let turn: Turn | undefined;
let turnDone: Promise<void> = Promise.resolve();
let turnsCompleted = 0;
let store: ConversationStore | undefined;
let conversation: Conversation | undefined;
/** Regenerations of the current last reply: each samples with the next seed (greedy gives the same text). */
let attempt = 0;
/** A message sent while the model loads: shown at once, answered once the model is ready. */
let queued: { conversation: Conversation; options: GenerateOptions; typed: string } | undefined;

const meter = new DecodeMeter(ui.tokensPerSecond, ui.turnStats);
const documents = new RetrievalPanel(byId('settings'), { error: (e) => showError(e) });
const messages = new MessageList(ui.transcript, {
  copy: (text, what) => { void copyText(text, what); },
  regenerate: () => { void regenerate(); },
  decorate: (article, m) => documents.decorate(article, m),
});
const modelDialog = new ModelDialog({
  dialog: byId<HTMLDialogElement>('model-dialog'), list: byId('model-list'), form: byId<HTMLFormElement>('model-form'),
  url: byId<HTMLInputElement>('model-url'), file: byId<HTMLInputElement>('model-file'),
  onPick: (source) => {
    if (typeof source === 'string') {
      settings.model = source;
      saveSettings(settings);
      const params = new URLSearchParams(location.search);
      params.delete('model');
      const query = params.toString();
      history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}`);
    }
    void loadModel(source);
  },
  reservedBytes: () => documents.library.gpuBytes,
});
const sw = registerServiceWorker({
  busy: () => document.body.dataset.state === 'generating',
  onUpdated: () => setStatus('A new version of Hearth is ready: it is used from the next reload.'),
});

function setState(state: PageState): void {
  showState(state, queued !== undefined);
  if (state !== 'generating') sw.whenIdle();
}

const isAbort = (e: unknown) => (e as { name?: unknown } | null)?.name === 'AbortError';

// ---- the model -----------------------------------------------------------------------------

async function loadModel(source: string | File): Promise<void> {
  loadController?.abort();
  const controller = new AbortController();
  loadController = controller;
  lastSource = source;
  turn?.cancel();
  await turnDone;
  const previous = engine;
  engine = undefined;
  await previous?.dispose().catch((e) => console.warn('disposing the previous model failed', e));

  const name = typeof source === 'string' ? shortName(source) : source.name;
  hideErrors();
  setState('loading');
  setStatus(`Loading ${name}…`);
  ui.modelButton.textContent = name;
  ui.modelInfo.textContent = '';
  ui.memory.textContent = '';
  ui.progress.removeAttribute('value'); // indeterminate until the first event
  try {
    // Without WebGPU, 'auto' runs llama.cpp's WebAssembly build; only a page that asked for WebGPU stops here.
    if (backendOption().backend === 'webgpu' && !navigator.gpu) throw Object.assign(new Error('This browser has no WebGPU (navigator.gpu is missing).'), { code: 'resources' });
    // A string goes as it is: createEngine reads hub ids as ids and resolves other text against the page.
    const model = typeof source === 'string' ? source : await source.arrayBuffer();
    const loaded = await createEngine(model, {
      ...hubOption(),
      ...backendOption(),
      signal: controller.signal,
      onProgress: (p) => {
        if (controller.signal.aborted) return;
        setStatus(describeProgress(p, name));
        if (p.total > 0) ui.progress.value = p.loaded / p.total;
        else ui.progress.removeAttribute('value');
      },
    });
    if (controller.signal.aborted) { await loaded.dispose(); return; }
    engine = loaded;
    const m = loaded.model;
    // Many GGUFs name themselves after their architecture ("llama"); the file name says more then.
    modelLabel = m.name && m.name !== m.architecture ? m.name : name;
    ui.modelButton.textContent = modelLabel;
    ui.modelInfo.textContent = `${modelLabel} · ${m.architecture} · ${m.weightType} · context ${m.contextLength} · ${m.chatTemplate ? 'chat' : 'continues text'} · ${m.backend === 'wasm' ? 'CPU' : 'GPU'}: ${m.adapter || 'unknown'}`;
    showMemory();
    if (m.backend === 'wasm') keepWasmBackendOffline();
    modelDialog.setCurrent(typeof source === 'string' ? source : '');
    setStatus(`Ready: ${modelLabel} on ${describeBackend(m)}. ${m.chatTemplate ? 'Send a message.' : 'Type the beginning of a story and press Enter.'}`);
    setState('ready');
    ui.prompt.focus();
    await sendQueued();
  } catch (e) {
    if (controller.signal.aborted) return; // superseded by another load
    unqueue();
    const x = showError(e);
    setStatus(`Could not load ${name}: ${x.title}.`);
    ui.modelButton.textContent = 'Choose a model';
    setState('error');
  }
}

function showMemory(): void {
  const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
  const embedder = documents.library.gpuBytes;
  const gpu = engine?.model.backend === 'webgpu' ? `GPU memory ${formatBytes(engine.model.gpuBytes + embedder)}${embedder ? ` (embedding model ${formatBytes(embedder)})` : ''}` : '';
  ui.memory.textContent = [gpu, heap ? `page heap ${formatBytes(heap)}` : ''].filter(Boolean).join(' · ');
}

// ---- conversations -------------------------------------------------------------------------

async function refreshList(): Promise<void> {
  if (!store) return;
  renderConversationList(ui.conversations, await store.list(), conversation?.id, {
    open: (id) => { void openConversation(id); },
    remove: (id) => { void removeConversation(id); },
  });
}

function showConversation(notice?: string): void {
  const list = conversation?.messages ?? [];
  messages.render(list, { canRegenerate: true, notice });
  ui.emptyHint.hidden = list.length > 0;
  ui.systemPrompt.value = conversation?.systemPrompt ?? settings.systemPrompt;
  updateSystemSummary();
  setState((document.body.dataset.state as PageState) ?? 'loading');
}

function updateSystemSummary(): void {
  const s = ui.systemPrompt.value.trim();
  ui.systemSummary.textContent = s ? `— ${s.length > 40 ? `${s.slice(0, 40)}…` : s}` : '(none)';
}

async function openConversation(id: string): Promise<void> {
  if (document.body.dataset.state === 'generating' || queued) return;
  conversation = await store?.get(id);
  attempt = 0;
  showConversation();
  await refreshList();
  closeSidebarOnPhone();
  ui.prompt.focus();
}

async function removeConversation(id: string): Promise<void> {
  if ((document.body.dataset.state === 'generating' || queued) && conversation?.id === id) return;
  await store?.delete(id);
  if (conversation?.id === id) { conversation = undefined; showConversation(); }
  await refreshList();
}

function startNewChat(): void {
  if (document.body.dataset.state === 'generating' || queued) return;
  conversation = undefined;
  attempt = 0;
  hideErrors();
  showConversation();
  void refreshList();
  closeSidebarOnPhone();
  ui.prompt.focus();
}

async function save(c: Conversation): Promise<void> {
  c.updated = Date.now();
  await store?.put(c).catch((e) => console.warn('could not save the conversation', e));
  await refreshList();
}

// ---- turns ---------------------------------------------------------------------------------

/** The settings as generation options, or null after showing why they are invalid. */
function checkedOptions(): GenerateOptions | null {
  try {
    return readOptions(ui);
  } catch (e) {
    showError(e);
    return null;
  }
}

async function send(): Promise<void> {
  const typed = ui.prompt.value.trimEnd();
  const loading = document.body.dataset.state === 'loading';
  if (typed.trim() === '' || !(loading || (engine && document.body.dataset.state === 'ready'))) return;
  if (loading && queued) {
    setStatus('A message is already waiting for the model; send this one when it has been answered.');
    return;
  }
  const options = checkedOptions();
  if (!options) return;
  const c = conversation ?? newConversation(ui.systemPrompt.value);
  if (!conversation) { conversation = c; c.title = titleFrom(typed); }
  c.messages.push({ role: 'user', content: typed });
  ui.prompt.value = '';
  attempt = 0;
  messages.addUser(typed, loading);
  ui.emptyHint.hidden = true;
  if (loading) {
    queued = { conversation: c, options, typed };
    setState('loading');
    return;
  }
  await reply(c, options, typed);
}

/** Answers the message queued while the model loaded, now that it is ready. */
async function sendQueued(): Promise<void> {
  const q = queued;
  queued = undefined;
  if (!q || !engine || document.body.dataset.state !== 'ready') return;
  messages.markSent();
  await reply(q.conversation, q.options, q.typed);
}

/** The model failed to load: the queued message goes back into the prompt box, unsent. */
function unqueue(): void {
  const q = queued;
  queued = undefined;
  if (!q) return;
  const c = q.conversation;
  if (c.messages.at(-1)?.role === 'user') c.messages.pop();
  if (ui.prompt.value.trim() === '') ui.prompt.value = q.typed;
  if (c.messages.length === 0 && conversation === c) conversation = undefined;
  if (conversation === c || conversation === undefined) showConversation();
}

async function regenerate(): Promise<void> {
  const c = conversation;
  if (!engine || !c || document.body.dataset.state !== 'ready' || c.messages.at(-1)?.role !== 'assistant') return;
  const options = checkedOptions();
  if (!options) return;
  c.messages.pop();
  attempt++;
  messages.render(c.messages, { canRegenerate: false });
  await reply(c, { ...options, seed: (options.seed ?? 0) + attempt });
}

/** Generates the reply to the conversation's last (user) message and stores it. */
async function reply(c: Conversation, options: GenerateOptions, typed?: string): Promise<void> {
  const current = engine!;
  let finish!: () => void;
  turnDone = new Promise((resolve) => { finish = resolve; });
  hideErrors();
  setState('generating');
  setStatus('Generating…');
  meter.reset();
  const view = messages.beginReply();
  let streamed = '';
  const history = c.messages.map(({ role, content }): Message => ({ role, content }));
  // With retrieval on, the question goes to the model with the best passages of the user's documents.
  const grounding = await documents.ground(history.at(-1)!.content).catch((e: unknown) => { showError(e); return undefined; });
  if (grounding) history[history.length - 1] = { role: 'user', content: grounding.prompt };
  const cited = grounding ? { sources: grounding.sources, groundedPrompt: grounding.prompt } : {};
  const t = runTurn({
    engine: current, system: c.systemPrompt, history, options,
    onText: (delta, token) => { streamed += delta; view.append(delta); if (token >= 0) meter.tick(); },
    tools: settings.tools === true,
  });
  turn = t;
  try {
    const outcome = await t.done;
    const { result } = outcome;
    const stats = {
      tokens: result.tokens.length, promptTokens: result.promptTokens.length,
      cachedTokens: result.promptTokens.length - result.prefillTokens,
      tokensPerSecond: result.decodeTokensPerSecond, finishReason: result.finishReason, model: modelLabel,
    };
    view.finish(result.text, stats);
    c.messages.push({ role: 'assistant', content: result.text, stats, ...cited });
    await save(c);
    ui.tokensPerSecond.textContent = `${result.decodeTokensPerSecond.toFixed(1)} tok/s`;
    ui.turnStats.textContent = `${describeStats(stats)} · prefill ${result.prefillTokensPerSecond.toFixed(0)} tok/s`;
    messages.render(c.messages, {
      canRegenerate: true,
      notice: leftOutNotice(outcome),
    });
    setStatus(result.finishReason === 'abort' ? 'Stopped.' : 'Ready.');
  } catch (e) {
    if (isAbort(e) || streamed !== '') {
      const stats = { tokens: 0, promptTokens: 0, cachedTokens: 0, tokensPerSecond: 0, finishReason: 'abort' as const, model: modelLabel };
      view.finish(streamed, stats);
      c.messages.push({ role: 'assistant', content: streamed, stats, ...cited });
      await save(c);
      messages.render(c.messages, { canRegenerate: true });
      if (!isAbort(e)) showError(e);
      setStatus(isAbort(e) ? 'Stopped.' : 'The reply failed.');
    } else {
      // Nothing came out: take the message back so it can be sent again.
      c.messages.pop();
      if (typed !== undefined) ui.prompt.value = typed;
      if (c.messages.length === 0 && conversation === c) conversation = undefined;
      else await save(c);
      messages.render(c.messages, { canRegenerate: true });
      showError(e);
      setStatus('The reply failed.');
    }
  } finally {
    turn = undefined;
    document.body.dataset.turns = String(++turnsCompleted); // a hook for tests: this turn has ended
    showMemory();
    if (engine === current) setState('ready');
    finish();
  }
}

function stop(): void {
  if (!turn) return;
  ui.stop.disabled = true;
  setStatus('Stopping…');
  turn.cancel();
}

async function copyText(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    setStatus(`Copied the ${what}.`);
  } catch {
    setStatus(`Could not copy the ${what}: the browser did not allow it.`);
  }
}

// ---- wiring --------------------------------------------------------------------

ui.composer.addEventListener('submit', (e) => { e.preventDefault(); void send(); });
ui.prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); void send(); }
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.dataset.state === 'generating' && !byId<HTMLDialogElement>('model-dialog').open) stop();
});
ui.stop.addEventListener('click', stop);
ui.newChat.addEventListener('click', startNewChat);
ui.errorDismiss.addEventListener('click', () => { ui.errorPanel.hidden = true; });
ui.screenRetry.addEventListener('click', () => { if (lastSource) void loadModel(lastSource); });
ui.screenChoose.addEventListener('click', () => modelDialog.open(typeof lastSource === 'string' ? new URL(lastSource, location.href).href : undefined));
ui.modelButton.addEventListener('click', () => modelDialog.open());
ui.menu.addEventListener('click', toggleSidebar);
for (const input of [ui.maxTokens, ui.temperature, ui.topK, ui.topP, ui.seed, ui.theme, ui.tools]) input.addEventListener('change', () => storeSettings(ui, settings));
ui.systemPrompt.addEventListener('input', updateSystemSummary);
ui.systemPrompt.addEventListener('change', () => {
  settings.systemPrompt = ui.systemPrompt.value;
  saveSettings(settings);
  if (conversation) { conversation.systemPrompt = ui.systemPrompt.value; void save(conversation); }
});

async function start(): Promise<void> {
  showSettings(ui, settings);
  setState('loading');
  try {
    store = await ConversationStore.open();
    const [latest] = await store.list();
    conversation = latest;
  } catch (e) {
    console.warn('IndexedDB is unavailable: conversations last for this visit only.', e);
  }
  showConversation();
  ui.systemPanel.open = ui.systemPrompt.value.trim() !== '';
  await refreshList();
  await documents.init().catch((e: unknown) => console.warn('IndexedDB is unavailable: no documents.', e));
  await loadModel(new URLSearchParams(location.search).get('model') ?? settings.model);
}

void start();
