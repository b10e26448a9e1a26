// The chat app's page: its elements (from index.html), its state on <body>, the status line, errors (a panel, or a screen of its own
// for those that leave nothing to do on the page) and the sidebar, which covers the page on a phone.
import { explainError, type ErrorExplanation } from '../describe';

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} is missing from index.html`);
  return el as T;
}

/** Every element the app drives. */
export const ui = {
  sidebar: byId('sidebar'), menu: byId<HTMLButtonElement>('menu'), conversations: byId('conversations'),
  newChat: byId<HTMLButtonElement>('new-chat'), modelButton: byId<HTMLButtonElement>('model-button'),
  modelInfo: byId('model-info'), status: byId('status'), progress: byId<HTMLProgressElement>('progress'),
  screen: byId('screen'), screenTitle: byId('screen-title'), screenMessage: byId('screen-message'),
  screenHint: byId('screen-hint'), screenRetry: byId<HTMLButtonElement>('screen-retry'), screenChoose: byId<HTMLButtonElement>('screen-choose'),
  errorPanel: byId('error-panel'), errorTitle: byId('error-title'), errorMessage: byId('error-message'),
  errorHint: byId('error-hint'), errorDismiss: byId<HTMLButtonElement>('error-dismiss'),
  systemPanel: byId<HTMLDetailsElement>('system-panel'), systemPrompt: byId<HTMLTextAreaElement>('system-prompt'),
  systemSummary: byId('system-summary'), transcript: byId('transcript'), emptyHint: byId('empty-hint'),
  composer: byId<HTMLFormElement>('composer'), prompt: byId<HTMLTextAreaElement>('prompt'),
  send: byId<HTMLButtonElement>('send'), stop: byId<HTMLButtonElement>('stop'),
  tokensPerSecond: byId('tokens-per-second'), memory: byId('memory'), turnStats: byId('turn-stats'),
  maxTokens: byId<HTMLInputElement>('max-tokens'), temperature: byId<HTMLInputElement>('temperature'),
  topK: byId<HTMLInputElement>('top-k'), topP: byId<HTMLInputElement>('top-p'), seed: byId<HTMLInputElement>('seed'),
  theme: byId<HTMLSelectElement>('theme'),
  tools: byId<HTMLInputElement>('tools'),
};

export type PageState = 'loading' | 'ready' | 'generating' | 'error';

/** Shows `state` as <body data-state> and in the controls; `waiting`: a message sent while loading waits for the model. */
export function showState(state: PageState, waiting: boolean): void {
  document.body.dataset.state = state;
  const ready = state === 'ready';
  const generating = state === 'generating';
  ui.prompt.disabled = false;
  // While the model loads a message can be sent, unless one already waits for it.
  ui.send.disabled = !(ready || (state === 'loading' && !waiting));
  ui.send.hidden = generating;
  ui.stop.hidden = !generating;
  ui.stop.disabled = !generating;
  ui.progress.hidden = state !== 'loading';
  for (const b of ui.transcript.querySelectorAll<HTMLButtonElement>('[data-testid=regenerate]')) b.disabled = !ready;
}

export function setStatus(text: string): void { ui.status.textContent = text; }

/** Shows `e` explained, on the error screen or in the error panel; returns the explanation. */
export function showError(e: unknown): ErrorExplanation {
  const x = explainError(e);
  console.error(e);
  if (x.screen) {
    ui.screen.dataset.kind = x.screen;
    ui.screenTitle.textContent = x.title;
    ui.screenMessage.textContent = x.message;
    ui.screenHint.textContent = x.hint;
    ui.screenRetry.hidden = x.screen !== 'download-failed';
    ui.screenChoose.hidden = x.screen === 'no-webgpu';
    ui.screen.hidden = false;
    return x;
  }
  ui.errorTitle.textContent = x.title;
  ui.errorMessage.textContent = x.message;
  ui.errorHint.textContent = x.hint;
  ui.errorPanel.hidden = false;
  return x;
}

export function hideErrors(): void { ui.errorPanel.hidden = true; ui.screen.hidden = true; }

export function closeSidebarOnPhone(): void {
  document.body.classList.remove('sidebar-open');
  ui.menu.setAttribute('aria-expanded', 'false');
}

export function toggleSidebar(): void {
  const open = document.body.classList.toggle('sidebar-open');
  ui.menu.setAttribute('aria-expanded', String(open));
}
