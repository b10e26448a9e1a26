// The transcript of a base-model "chat": one running text that the user and the model take turns
// extending. What is shown since the last fresh context is exactly the prompt of the next turn, so
// the engine's prefix cache can reuse the KV cache of everything before the new text.

export interface ModelTurnView {
  /** Appends streamed text. */
  append(text: string): void;
  /** Ends the turn; `text` is the authoritative continuation (replaces what was streamed). */
  finish(text: string, stopped: boolean): void;
}

export class Transcript {
  /** Text the model has seen since the last fresh start (user turns and continuations). */
  private contextText = '';
  private stickToBottom = true;

  constructor(private readonly el: HTMLElement, private readonly onChange: () => void) {
    el.addEventListener('scroll', () => {
      this.stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    });
  }

  get context(): string { return this.contextText; }
  get isEmpty(): boolean { return this.el.childNodes.length === 0; }

  /**
   * The user's text as it joins the running context: a space is put between two words that would
   * otherwise run together, so the model sees "…the end. Then" and not "…the end.Then".
   */
  joinUserText(text: string, context = this.contextText): string {
    const needsSpace = context !== '' && !/\s$/.test(context) && !/^\s/.test(text);
    return needsSpace ? ' ' + text : text;
  }

  addUser(joinedText: string): void {
    // The joining space stays outside the highlight, so the highlight hugs the words.
    const lead = /^\s*/.exec(joinedText)![0];
    const mark = document.createElement('mark');
    mark.className = 'user';
    mark.textContent = joinedText.slice(lead.length);
    if (lead) this.el.append(lead);
    this.el.append(mark);
    this.contextText += joinedText;
    this.changed();
  }

  beginModel(): ModelTurnView {
    const span = document.createElement('span');
    span.className = 'model streaming';
    const node = document.createTextNode('');
    span.append(node);
    this.el.append(span);
    this.el.setAttribute('aria-busy', 'true');
    this.changed();
    let done = false;
    return {
      append: (text) => {
        if (done || text === '') return;
        node.appendData(text);
        this.changed();
      },
      finish: (text, stopped) => {
        if (done) return;
        done = true;
        node.data = text;
        span.className = stopped ? 'model stopped' : 'model';
        if (stopped) span.title = 'Stopped';
        this.el.setAttribute('aria-busy', 'false');
        this.contextText += text;
        this.changed();
      },
    };
  }

  /** Where the transcript stands now, for `rollback`. */
  checkpoint(): { nodes: number; context: string } {
    return { nodes: this.el.childNodes.length, context: this.contextText };
  }

  /** Removes everything added since `checkpoint()` (a turn that failed before producing text). */
  rollback(at: { nodes: number; context: string }): void {
    while (this.el.childNodes.length > at.nodes) this.el.lastChild!.remove();
    this.el.setAttribute('aria-busy', 'false');
    this.contextText = at.context;
    this.changed();
  }

  /** Starts a fresh context: earlier text stays visible above the notice but is no longer in the prompt. */
  freshContext(notice: string): void {
    const p = document.createElement('span');
    p.className = 'notice';
    p.dataset.testid = 'context-notice';
    p.setAttribute('role', 'note');
    p.textContent = notice;
    this.el.append(p);
    this.contextText = '';
    this.changed();
  }

  clear(): void {
    this.el.replaceChildren();
    this.el.setAttribute('aria-busy', 'false');
    this.contextText = '';
    this.stickToBottom = true;
    this.changed();
  }

  private changed(): void {
    if (this.stickToBottom) this.el.scrollTop = this.el.scrollHeight;
    this.onChange();
  }
}
