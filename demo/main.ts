// The demo page: load a GGUF (the bundled stories260K, or ?model=<url>), then take turns with the
// model in one running text. No framework: a handful of elements, one state attribute on <body>.
import { createEngine, InvalidRequestError, type Engine, type GenerateOptions, type TokenStream } from '../src/index';
import { describeProgress, explainError, shortName } from './describe';
import { Transcript } from './transcript';

type PageState = 'loading' | 'ready' | 'generating' | 'error';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} is missing from index.html`);
  return el as T;
}

const ui = {
  modelInfo: byId('model-info'),
  newChat: byId<HTMLButtonElement>('new-chat'),
  status: byId('status'),
  progress: byId<HTMLProgressElement>('progress'),
  errorPanel: byId('error-panel'),
  errorTitle: byId('error-title'),
  errorMessage: byId('error-message'),
  errorHint: byId('error-hint'),
  errorDismiss: byId<HTMLButtonElement>('error-dismiss'),
  transcript: byId('transcript'),
  emptyHint: byId('empty-hint'),
  composer: byId<HTMLFormElement>('composer'),
  prompt: byId<HTMLTextAreaElement>('prompt'),
  send: byId<HTMLButtonElement>('send'),
  stop: byId<HTMLButtonElement>('stop'),
  tokensPerSecond: byId('tokens-per-second'),
  turnStats: byId('turn-stats'),
  maxTokens: byId<HTMLInputElement>('max-tokens'),
  temperature: byId<HTMLInputElement>('temperature'),
  topP: byId<HTMLInputElement>('top-p'),
  seed: byId<HTMLInputElement>('seed'),
  modelPanel: byId<HTMLDetailsElement>('model-panel'),
  modelForm: byId<HTMLFormElement>('model-form'),
  modelUrl: byId<HTMLInputElement>('model-url'),
  modelFile: byId<HTMLInputElement>('model-file'),
};

const DEFAULT_MODEL = `${import.meta.env.BASE_URL}stories260K.gguf`;

let engine: Engine | undefined;
let loadController: AbortController | undefined;
let stream: TokenStream | undefined;
/** Settles when the running turn has fully ended (so New chat / a new load can wait for it). */
let turnDone: Promise<void> = Promise.resolve();
let turnsCompleted = 0;

const transcript = new Transcript(ui.transcript, () => { ui.emptyHint.hidden = !transcript.isEmpty; });

function setState(state: PageState): void {
  document.body.dataset.state = state;
  const ready = state === 'ready';
  const generating = state === 'generating';
  ui.prompt.disabled = !(ready || generating);
  ui.send.disabled = !ready;
  ui.send.hidden = generating;
  ui.stop.hidden = !generating;
  ui.stop.disabled = !generating;
  ui.newChat.disabled = !(ready || generating);
  ui.progress.hidden = state !== 'loading';
}

function setStatus(text: string): void { ui.status.textContent = text; }

function showError(e: unknown): void {
  const { title, message, hint } = explainError(e);
  ui.errorTitle.textContent = title;
  ui.errorMessage.textContent = message;
  ui.errorHint.textContent = hint;
  ui.errorPanel.hidden = false;
  console.error(e);
}

function hideError(): void { ui.errorPanel.hidden = true; }

function isAbort(e: unknown): boolean { return (e as { name?: unknown } | null)?.name === 'AbortError'; }

// ---- loading -------------------------------------------------------------------------------

/** Loads a model from a URL (resolved against the page, so the worker fetches the same file) or a local file. */
async function loadModel(source: string | File): Promise<void> {
  loadController?.abort();
  const controller = new AbortController();
  loadController = controller;
  stream?.cancel();
  await turnDone;
  const previous = engine;
  engine = undefined;
  await previous?.dispose().catch((e) => console.warn('disposing the previous model failed', e));

  const name = typeof source === 'string' ? shortName(source) : source.name;
  hideError();
  setState('loading');
  setStatus(`Loading ${name}…`);
  ui.modelInfo.textContent = name;
  ui.progress.removeAttribute('value'); // indeterminate until the first event
  try {
    const model = typeof source === 'string' ? new URL(source, location.href).href : await source.arrayBuffer();
    const loaded = await createEngine(model, {
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
    const title = m.name && m.name !== m.architecture ? m.name : name;
    ui.modelInfo.textContent = `${title} · ${m.architecture} · ${m.weightType} · context ${m.contextLength} · GPU: ${m.adapter || 'unknown'}`;
    transcript.clear();
    resetMeter();
    setStatus(`Ready: ${title}. Type the beginning of a story and press Enter.`);
    setState('ready');
    ui.prompt.focus();
  } catch (e) {
    if (controller.signal.aborted) return; // superseded by another load
    showError(e);
    setStatus(`Could not load ${name}.`);
    setState('error');
    if (typeof source === 'string') ui.modelUrl.value = new URL(source, location.href).href;
    ui.modelPanel.open = true;
  }
}

// ---- generation ----------------------------------------------------------------------------

/** The settings panel as GenerateOptions; a value out of range is an InvalidRequestError naming the field. */
function readSettings(): GenerateOptions {
  const read = (input: HTMLInputElement, label: string, fallback: number, ok: (n: number) => boolean, rule: string) => {
    const n = input.value.trim() === '' ? fallback : Number(input.value);
    if (!Number.isFinite(n) || !ok(n)) throw new InvalidRequestError(`${label} must be ${rule}, got '${input.value}'`);
    return n;
  };
  return {
    maxTokens: read(ui.maxTokens, 'Max tokens', 200, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
    temperature: read(ui.temperature, 'Temperature', 0, (n) => n >= 0, '0 (greedy) or more'),
    topP: read(ui.topP, 'Top-p', 1, (n) => n > 0 && n <= 1, 'above 0 and at most 1'),
    seed: read(ui.seed, 'Seed', 0, (n) => Number.isInteger(n) && n >= 0, 'a whole number of at least 0'),
  };
}

let meterStart = 0;
let meterTokens = 0;

function resetMeter(): void {
  meterTokens = 0;
  ui.tokensPerSecond.textContent = '– tok/s';
  ui.turnStats.textContent = '';
}

/** Live decode rate: tokens after the first over the time since the first (prefill excluded). */
function tickMeter(): void {
  const now = performance.now();
  meterTokens++;
  if (meterTokens === 1) { meterStart = now; return; }
  const seconds = (now - meterStart) / 1000;
  if (seconds > 0) ui.tokensPerSecond.textContent = `${((meterTokens - 1) / seconds).toFixed(1)} tok/s`;
}

async function send(): Promise<void> {
  const current = engine;
  const typed = ui.prompt.value.trimEnd(); // a trailing space would become its own token
  if (!current || document.body.dataset.state !== 'ready' || typed.trim() === '') return;
  let finishTurn!: () => void;
  turnDone = new Promise((resolve) => { finishTurn = resolve; });
  hideError();
  setState('generating');
  setStatus('Generating…');
  resetMeter();
  try {
    const options = readSettings();
    const maxTokens = options.maxTokens ?? 200;
    const contextLength = current.model.contextLength;

    let joined = transcript.joinUserText(typed);
    let prompt = transcript.context + joined;
    let promptTokens = (await current.tokenize(prompt)).length;
    if (transcript.context !== '' && promptTokens + maxTokens > contextLength) {
      // The running text plus this turn would overflow the KV cache: continue from the new text alone.
      await current.resetContext();
      transcript.freshContext(`Context full (${promptTokens} + ${maxTokens} tokens > ${contextLength}): the model starts a fresh context here and no longer sees the text above.`);
      joined = transcript.joinUserText(typed, '');
      prompt = joined;
      promptTokens = (await current.tokenize(prompt)).length;
    }
    const room = contextLength - promptTokens;
    if (room <= 0) throw new InvalidRequestError(`your text is ${promptTokens} tokens, but the context holds ${contextLength}; shorten it`);

    const checkpoint = transcript.checkpoint();
    transcript.addUser(joined);
    ui.prompt.value = '';
    const turn = transcript.beginModel();
    const s = current.generate(prompt, { ...options, maxTokens: Math.min(maxTokens, room) });
    stream = s;
    let streamed = '';
    try {
      for await (const chunk of s) {
        streamed += chunk.text;
        turn.append(chunk.text);
        if (chunk.token >= 0) tickMeter(); // -1: a final flush of held-back bytes, not a token
      }
      const result = await s.result;
      const stopped = result.finishReason === 'abort';
      turn.finish(result.text, stopped);
      const cached = result.promptTokens.length - result.prefillTokens;
      ui.tokensPerSecond.textContent = `${result.decodeTokensPerSecond.toFixed(1)} tok/s`;
      ui.turnStats.textContent =
        `${result.tokens.length} tokens · prompt ${result.promptTokens.length} (${cached} cached, ` +
        `${result.prefillTokensPerSecond.toFixed(0)} tok/s) · ${finishLabel[result.finishReason]}`;
      setStatus(stopped ? 'Stopped.' : 'Ready.');
    } catch (e) {
      if (streamed === '' && !isAbort(e)) {
        // Nothing came out: take the turn back so the text can be sent again.
        transcript.rollback(checkpoint);
        ui.prompt.value = typed;
      } else {
        turn.finish(streamed, true);
      }
      throw e;
    }
  } catch (e) {
    if (isAbort(e)) {
      setStatus('Stopped.');
    } else {
      showError(e);
      setStatus('The last turn failed.');
    }
  } finally {
    stream = undefined;
    document.body.dataset.turns = String(++turnsCompleted); // a hook for tests: this turn has ended
    if (engine === current) setState('ready');
    finishTurn();
  }
}

const finishLabel = { stop: 'the model ended the text', length: 'reached max tokens', abort: 'stopped' } as const;

async function newChat(): Promise<void> {
  stream?.cancel();
  await turnDone;
  const current = engine;
  if (!current) return;
  hideError();
  await current.resetContext();
  transcript.clear();
  resetMeter();
  setStatus('New chat. Type the beginning of a story.');
  ui.prompt.focus();
}

// ---- wiring --------------------------------------------------------------------------------

ui.composer.addEventListener('submit', (e) => { e.preventDefault(); void send(); });
ui.prompt.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); void send(); }
});
ui.stop.addEventListener('click', () => {
  ui.stop.disabled = true;
  setStatus('Stopping…');
  stream?.cancel();
});
ui.newChat.addEventListener('click', () => { void newChat(); });
ui.errorDismiss.addEventListener('click', hideError);
ui.modelForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const url = ui.modelUrl.value.trim();
  if (!url) return;
  const params = new URLSearchParams(location.search);
  params.set('model', url);
  history.replaceState(null, '', `${location.pathname}?${params}`);
  void loadModel(url);
});
ui.modelFile.addEventListener('change', () => {
  const file = ui.modelFile.files?.[0];
  if (file) void loadModel(file);
});

void loadModel(new URLSearchParams(location.search).get('model') ?? DEFAULT_MODEL);
