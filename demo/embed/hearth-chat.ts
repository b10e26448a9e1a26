// <hearth-chat>: a chat widget for any page, from one script tag.
//
//   <script type="module" src="https://…/hearth-chat.js"></script>
//   <hearth-chat model="https://…/model.gguf" system-prompt="Answer briefly."></hearth-chat>
//
// Everything lives in an open shadow root with its own styles (nothing is added to the host page's
// document or globals besides the element's definition). The engine's worker loads relative to this
// script's URL, also when the script comes from another origin (served with CORS). Without a `model`
// attribute the widget loads the bundled stories260K next to this script.
//
// Attributes: model, system-prompt, max-tokens, temperature, placeholder, theme (auto | light | dark),
// backend (auto | webgpu | wasm; default auto: llama.cpp WebAssembly for visitors without a hardware WebGPU
// adapter, multi-threaded where the host page is cross-origin isolated, one thread on any other page).
// Methods: send(text) → Promise<reply text>, stop(), reset(). Properties: modelInfo, busy.
// Events (bubbling, composed): ready {model}, progress {phase, loaded, total}, token {text, token},
// done {text, finishReason, tokens, tokensPerSecond}, error {message, code}.
import { createEngine, type Engine, type ModelInfo } from '../../src/index';
import { explainError } from '../describe';
import { renderReply } from '../lib/markdown';
import { runTurn, type Message, type Turn } from '../lib/turn';
import css from './embed.css?inline';

/** This script's own URL: the bundled model sits next to it in the build (one folder up from the source). */
const SCRIPT_URL = import.meta.url;
const BUNDLED_MODEL = import.meta.env.DEV ? '../stories260K.gguf' : './stories260K.gguf';

const TEMPLATE = `
<div class="root" part="root">
  <header><strong class="title" part="title">Hearth</strong><span class="status" role="status" aria-live="polite">Starting…</span></header>
  <progress max="1" aria-label="Model loading progress"></progress>
  <div class="log" role="log" aria-label="Conversation" aria-live="polite" tabindex="0"></div>
  <div class="error" role="alert" hidden><p class="error-text"></p><button type="button" class="retry">Retry</button></div>
  <form class="composer" autocomplete="off">
    <label class="vh" for="input">Message</label>
    <textarea id="input" rows="1"></textarea>
    <button type="submit" class="send" disabled>Send</button>
    <button type="button" class="stop" hidden>Stop</button>
  </form>
</div>`;

type Detail = Record<string, unknown>;

export class HearthChat extends HTMLElement {
  static observedAttributes = ['model', 'placeholder', 'backend'];

  private readonly root: ShadowRoot;
  private readonly $ = <T extends Element = HTMLElement>(selector: string) => this.root.querySelector<T>(selector)!;
  private engine?: Engine;
  private loading?: Promise<Engine>;
  private loadController?: AbortController;
  private history: Message[] = [];
  private turn?: Turn;
  private queue: Promise<unknown> = Promise.resolve();
  /** True from the start of a load until it succeeds or fails. */
  private loadPending = false;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = css;
    const holder = document.createElement('div');
    holder.innerHTML = TEMPLATE; // a constant: no outside text goes through innerHTML here
    this.root.append(style, ...holder.childNodes);
    this.$<HTMLFormElement>('form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = this.$<HTMLTextAreaElement>('textarea');
      const text = input.value.trim();
      // While the model loads the message is shown at once and sent when it is ready (send() waits for it).
      if (!text || this.busy || !(this.engine || this.loadPending)) return;
      input.value = '';
      this.send(text).catch(() => {}); // reported through the error event and the widget's own message
    });
    this.$<HTMLTextAreaElement>('textarea').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.$<HTMLFormElement>('form').requestSubmit(); }
      if (e.key === 'Escape') this.stop();
    });
    this.$<HTMLButtonElement>('.stop').addEventListener('click', () => this.stop());
    this.$<HTMLButtonElement>('.retry').addEventListener('click', () => { void this.load(); });
  }

  /** The loaded model (undefined until the `ready` event). */
  get modelInfo(): ModelInfo | undefined { return this.engine?.model; }
  /** Whether a reply is being generated. */
  get busy(): boolean { return this.turn !== undefined; }

  connectedCallback(): void {
    this.applyPlaceholder();
    if (!this.engine && !this.loading) void this.load();
  }

  disconnectedCallback(): void {
    this.loadController?.abort();
    this.turn?.cancel();
    const engine = this.engine;
    this.engine = undefined;
    this.loading = undefined;
    void engine?.dispose();
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (name === 'placeholder') this.applyPlaceholder();
    if ((name === 'model' || name === 'backend') && old !== value && this.isConnected) void this.load();
  }

  /** Sends `text` as the user's message; resolves with the reply once it is complete (or stopped). */
  send(text: string): Promise<string> {
    const run = this.queue.then(() => this.reply(String(text)));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Stops the reply being generated (it ends with finishReason 'abort'). */
  stop(): void { this.turn?.cancel(); }

  /** Forgets the conversation. */
  reset(): void {
    this.stop();
    this.history = [];
    this.$('.log').replaceChildren();
  }

  private applyPlaceholder(): void {
    this.$<HTMLTextAreaElement>('textarea').placeholder = this.getAttribute('placeholder') ?? 'Message (Enter sends)';
  }

  private emit(type: string, detail: Detail): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private setStatus(text: string): void { this.$('.status').textContent = text; }

  private showError(e: unknown): void {
    const x = explainError(e);
    this.$('.error-text').textContent = `${x.title}: ${x.message}`;
    this.$<HTMLButtonElement>('.retry').hidden = x.screen !== 'download-failed';
    this.$('.error').hidden = false;
    this.emit('error', { message: x.message, title: x.title, code: (e as { code?: string } | null)?.code ?? 'error' });
  }

  private async load(): Promise<Engine> {
    this.loadController?.abort();
    const controller = new AbortController();
    this.loadController = controller;
    this.turn?.cancel();
    const previous = this.engine;
    this.engine = undefined;
    void previous?.dispose();
    const attr = this.getAttribute('model');
    // The attribute is a hub id or a URL relative to the page (createEngine resolves it); the default model
    // is relative to this script.
    const url = attr || new URL(BUNDLED_MODEL, SCRIPT_URL).href;
    const progress = this.$<HTMLProgressElement>('progress');
    this.$('.error').hidden = true;
    this.$<HTMLButtonElement>('.send').disabled = false; // a message sent now waits for the model
    progress.hidden = false;
    progress.removeAttribute('value');
    this.setStatus('Loading the model…');
    const backend = this.getAttribute('backend');
    const loading = createEngine(url, {
      // 'auto' unless the host says: llama.cpp WebAssembly where the visitor has no hardware WebGPU adapter.
      ...(backend === 'webgpu' || backend === 'wasm' || backend === 'auto' ? { backend } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        if (controller.signal.aborted) return;
        if (p.total > 0) progress.value = p.loaded / p.total;
        this.setStatus(p.phase === 'download' && p.total > 0 ? `Downloading ${Math.floor((100 * p.loaded) / p.total)}%` : `${p.phase}…`);
        this.emit('progress', { phase: p.phase, loaded: p.loaded, total: p.total });
      },
    });
    this.loading = loading;
    this.loadPending = true;
    try {
      const engine = await loading;
      if (controller.signal.aborted) { void engine.dispose(); throw new DOMException('superseded', 'AbortError'); }
      this.engine = engine;
      progress.hidden = true;
      this.$<HTMLButtonElement>('.send').disabled = false;
      this.setStatus(`${engine.model.name || 'Model'} ready · ${engine.model.backend === 'wasm' ? 'WebAssembly (CPU)' : 'WebGPU'}`);
      this.emit('ready', { model: engine.model });
      return engine;
    } catch (e) {
      if (!controller.signal.aborted) {
        progress.hidden = true;
        this.$<HTMLButtonElement>('.send').disabled = true;
        this.setStatus('Not loaded');
        this.showError(e);
      }
      throw e;
    } finally {
      if (this.loadController === controller) this.loadPending = false;
    }
  }

  private async reply(text: string): Promise<string> {
    const log = this.$('.log');
    const user = document.createElement('div');
    user.className = 'msg user';
    user.textContent = text;
    const bot = document.createElement('div');
    bot.className = 'msg bot streaming';
    bot.setAttribute('aria-busy', 'true');
    log.append(user, bot);
    let engine = this.engine;
    if (!engine) {
      // Shown right away, answered once the model has loaded.
      user.dataset.queued = 'true';
      const note = document.createElement('span');
      note.className = 'note';
      note.textContent = 'waiting for the model to load…';
      user.append(note);
      try {
        engine = await (this.loading ?? this.load());
      } catch (e) {
        bot.remove();
        user.classList.add('failed');
        throw e; // the load already reported it
      } finally {
        delete user.dataset.queued;
        note.remove();
      }
    }
    this.history.push({ role: 'user', content: text });
    this.$('.error').hidden = true;
    this.$<HTMLButtonElement>('.send').hidden = true;
    this.$<HTMLButtonElement>('.stop').hidden = false;
    this.setStatus('Replying…');
    let streamed = '';
    let frame = 0;
    const draw = () => { frame = 0; renderReply(bot, streamed, (code) => void navigator.clipboard?.writeText(code)); log.scrollTop = log.scrollHeight; };
    const turn = runTurn({
      engine,
      system: this.getAttribute('system-prompt') ?? '',
      history: this.history,
      options: {
        maxTokens: Number(this.getAttribute('max-tokens') ?? 256) || 256,
        temperature: Number(this.getAttribute('temperature') ?? 0) || 0,
      },
      onText: (delta, token) => {
        streamed += delta;
        if (!frame) frame = requestAnimationFrame(draw);
        this.emit('token', { text: delta, token });
      },
    });
    this.turn = turn;
    try {
      const { result } = await turn.done;
      streamed = result.text;
      if (result.finishReason === 'abort') bot.classList.add('stopped');
      this.history.push({ role: 'assistant', content: result.text });
      this.setStatus(`${result.decodeTokensPerSecond.toFixed(1)} tok/s`);
      this.emit('done', { text: result.text, finishReason: result.finishReason, tokens: result.tokens.length, tokensPerSecond: result.decodeTokensPerSecond });
      return result.text;
    } catch (e) {
      this.history.pop();
      this.showError(e);
      this.setStatus('Reply failed');
      throw e;
    } finally {
      if (frame) cancelAnimationFrame(frame);
      draw();
      bot.classList.remove('streaming');
      bot.removeAttribute('aria-busy');
      this.turn = undefined;
      this.$<HTMLButtonElement>('.send').hidden = false;
      this.$<HTMLButtonElement>('.stop').hidden = true;
    }
  }
}

if (!customElements.get('hearth-chat')) customElements.define('hearth-chat', HearthChat);

declare global {
  interface HTMLElementTagNameMap { 'hearth-chat': HearthChat }
}
