// The conversation on screen: messages (replies as sanitized markdown), a reply while it streams, and
// the list of stored conversations. Plain DOM; every control is a real button with an accessible name.
import { renderReply } from './markdown';
import type { Conversation, ReplyStats, StoredMessage } from './store';

export interface MessageActions {
  copy(text: string, what: string): void;
  regenerate(): void;
  /** Adds to a stored message's element what other parts of the app show with it (a reply's sources). */
  decorate?(article: HTMLElement, message: StoredMessage): void;
}

export interface ReplyView {
  append(delta: string): void;
  /** The authoritative text (replaces what was streamed). */
  finish(text: string, stats: ReplyStats | undefined): void;
}

const finishLabel = { stop: 'finished', length: 'reached max tokens', abort: 'stopped' } as const;

export function describeStats(s: ReplyStats): string {
  return `${s.tokens} tokens · ${s.tokensPerSecond.toFixed(1)} tok/s · prompt ${s.promptTokens} (${s.cachedTokens} cached) · ${finishLabel[s.finishReason]}`;
}

export class MessageList {
  private stickToBottom = true;

  constructor(private readonly el: HTMLElement, private readonly actions: MessageActions) {
    el.addEventListener('scroll', () => {
      this.stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 32;
    });
  }

  get isEmpty(): boolean { return this.el.childElementCount === 0; }

  /** Shows `messages`; the last reply gets a Regenerate button when `canRegenerate`. */
  render(messages: StoredMessage[], options: { canRegenerate: boolean; notice?: string }): void {
    const nodes = messages.map((m, i) => this.messageNode(m, options.canRegenerate && i === messages.length - 1 && m.role === 'assistant'));
    this.el.replaceChildren(...nodes);
    if (options.notice) this.addNotice(options.notice);
    this.el.setAttribute('aria-busy', 'false');
    this.stickToBottom = true;
    this.scroll();
  }

  /** A note between messages, e.g. that older ones no longer fit in the context. */
  addNotice(text: string): void {
    const p = document.createElement('p');
    p.className = 'notice';
    p.dataset.testid = 'context-notice';
    p.setAttribute('role', 'note');
    p.textContent = text;
    this.el.append(p);
    this.scroll();
  }

  /** `queued`: typed while the model loads; marked as waiting until markSent(). */
  addUser(text: string, queued = false): void {
    const node = this.messageNode({ role: 'user', content: text }, false);
    if (queued) {
      node.dataset.queued = 'true';
      const note = document.createElement('p');
      note.className = 'queued-note muted';
      note.dataset.testid = 'queued-note';
      note.textContent = 'Waiting for the model to load — sent as soon as it is ready.';
      node.append(note);
    }
    this.el.append(node);
    this.scroll();
  }

  /** Clears the waiting marks of queued messages (they are being sent now). */
  markSent(): void {
    for (const node of this.el.querySelectorAll<HTMLElement>('[data-queued]')) {
      delete node.dataset.queued;
      node.querySelector('.queued-note')?.remove();
    }
  }

  /** Appends a reply that fills in as tokens arrive (markdown re-rendered at most once per frame). */
  beginReply(): ReplyView {
    const article = this.shell('assistant');
    article.classList.add('streaming');
    const content = article.querySelector<HTMLElement>('.content')!;
    this.el.append(article);
    this.el.setAttribute('aria-busy', 'true');
    this.scroll();
    let text = '';
    let frame = 0;
    let done = false;
    const draw = () => {
      frame = 0;
      renderReply(content, text, (code) => this.actions.copy(code, 'code'));
      this.scroll();
    };
    return {
      append: (delta) => {
        if (done || delta === '') return;
        text += delta;
        if (!frame) frame = requestAnimationFrame(draw);
      },
      finish: (final, stats) => {
        if (done) return;
        done = true;
        if (frame) cancelAnimationFrame(frame);
        text = final;
        draw();
        article.classList.remove('streaming');
        if (stats?.finishReason === 'abort') article.classList.add('stopped');
        this.el.setAttribute('aria-busy', 'false');
      },
    };
  }

  private messageNode(m: StoredMessage, regenerate: boolean): HTMLElement {
    const article = this.shell(m.role);
    const content = article.querySelector<HTMLElement>('.content')!;
    if (m.role === 'assistant') renderReply(content, m.content, (code) => this.actions.copy(code, 'code'));
    else content.textContent = m.content;
    if (m.stats?.finishReason === 'abort') article.classList.add('stopped');
    const bar = document.createElement('div');
    bar.className = 'message-actions';
    bar.append(this.button('Copy', `Copy this ${m.role === 'user' ? 'message' : 'reply'}`, 'copy', () => this.actions.copy(m.content, m.role === 'user' ? 'message' : 'reply')));
    if (regenerate) bar.append(this.button('Regenerate', 'Regenerate this reply', 'regenerate', () => this.actions.regenerate()));
    if (m.stats) {
      const stats = document.createElement('span');
      stats.className = 'stats muted';
      stats.textContent = `${m.stats.model} · ${describeStats(m.stats)}`;
      bar.append(stats);
    }
    article.append(bar);
    this.actions.decorate?.(article, m);
    return article;
  }

  private shell(role: StoredMessage['role']): HTMLElement {
    const article = document.createElement('article');
    // 'model' kept for the reply's class: tests and styles address replies by it.
    article.className = role === 'user' ? 'message user' : 'message assistant model';
    article.dataset.testid = 'message';
    article.dataset.role = role;
    article.setAttribute('aria-label', role === 'user' ? 'You said' : 'Hearth replied');
    const content = document.createElement('div');
    content.className = 'content';
    article.append(content);
    return article;
  }

  private button(label: string, aria: string, testid: string, onClick: () => void): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.textContent = label;
    b.setAttribute('aria-label', aria);
    b.dataset.testid = testid;
    b.addEventListener('click', onClick);
    return b;
  }

  private scroll(): void {
    if (this.stickToBottom) this.el.scrollTop = this.el.scrollHeight;
  }
}

/** The sidebar's list of conversations, newest first; the open one is marked with aria-current. */
export function renderConversationList(
  ul: HTMLElement, conversations: Conversation[], currentId: string | undefined,
  on: { open(id: string): void; remove(id: string): void },
): void {
  const items = conversations.map((c) => {
    const li = document.createElement('li');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'conversation';
    open.dataset.testid = 'conversation';
    open.textContent = c.title;
    open.title = new Date(c.updated).toLocaleString();
    if (c.id === currentId) open.setAttribute('aria-current', 'true');
    open.addEventListener('click', () => on.open(c.id));
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'icon link delete';
    remove.textContent = '✕';
    remove.setAttribute('aria-label', `Delete conversation “${c.title}”`);
    remove.addEventListener('click', () => on.remove(c.id));
    li.append(open, remove);
    return li;
  });
  ul.replaceChildren(...items);
}
