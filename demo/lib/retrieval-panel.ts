// The documents panel (sidebar): add files, watch them being split and embedded, delete them, switch retrieval
// on or off; and on each reply grounded in them, its sources (document and passage, each openable in a dialog
// that shows the passage in its document) with the reply's [n] citations linked to them.
import { citedSources, type IndexProgress, type LoadProgress } from '../../src/index';
import { DocumentLibrary, type SourceRef } from './documents';
import type { StoredMessage } from './store';

const SWITCH_KEY = 'hearth-retrieval';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { testid?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const { testid, ...rest } = props;
  const e = Object.assign(document.createElement(tag), rest);
  if (testid) e.dataset.testid = testid;
  e.append(...children);
  return e;
}

interface PanelHooks {
  /** Shows an error the user should see (the panel's own line says what failed as well). */
  error(e: unknown): void;
}

export class RetrievalPanel {
  readonly library: DocumentLibrary;
  private readonly toggle = el('input', { type: 'checkbox', testid: 'retrieval' });
  private readonly files = el('input', { type: 'file', multiple: true, testid: 'document-files', accept: '.txt,.md,.markdown,.html,.htm,.pdf,text/plain,text/markdown,text/html,application/pdf' });
  private readonly progress = el('progress', { testid: 'documents-progress', max: 1, hidden: true });
  private readonly note = el('p', { className: 'muted small', testid: 'documents-status' });
  private readonly list = el('ul', { className: 'documents', testid: 'documents' });
  private readonly count = el('span', { className: 'muted small', testid: 'documents-count' });
  private readonly dialog = el('dialog', { className: 'source-dialog', testid: 'source-dialog' });
  private adding: AbortController | undefined;
  private readonly cancelAdd = el('button', { type: 'button', className: 'secondary small', testid: 'documents-cancel', hidden: true, onclick: () => this.adding?.abort() }, 'Cancel');

  constructor(before: HTMLElement, private readonly hooks: PanelHooks) {
    this.library = new DocumentLibrary((p) => this.loadProgress(p));
    this.toggle.checked = localStorage.getItem(SWITCH_KEY) !== 'off';
    this.toggle.addEventListener('change', () => localStorage.setItem(SWITCH_KEY, this.toggle.checked ? 'on' : 'off'));
    this.files.addEventListener('change', () => { void this.addFiles([...(this.files.files ?? [])]); });
    this.note.setAttribute('role', 'status');
    const panel = el('details', { className: 'panel documents-panel', id: 'documents-panel', testid: 'documents-panel' },
      el('summary', {}, 'Documents ', this.count),
      el('label', { title: 'Each question is answered from the best passages of your documents, which the reply cites' }, this.toggle, ' Answer from my documents'),
      el('label', { className: 'file-pick' }, 'Add text, Markdown, HTML or PDF files', this.files),
      this.progress, this.cancelAdd, this.note, this.list,
      el('p', { className: 'muted small' }, 'Documents are split into passages and embedded on this device; they stay in this browser.'));
    before.before(panel);
    document.body.append(this.dialog);
  }

  /** Whether a question should be answered from the documents. */
  get enabled(): boolean { return this.toggle.checked; }

  /** Lists the stored documents; with documents and retrieval on, loads the embedding model in the background. */
  async init(): Promise<void> {
    const docs = await this.refresh();
    if (docs > 0 && this.enabled) void this.library.open().then(() => this.showEmbedder(), (e) => this.failed(e));
  }

  /** The question with its sources, when retrieval is on and documents exist. */
  async ground(question: string): Promise<{ prompt: string; sources: SourceRef[] } | undefined> {
    if (!this.enabled) return undefined;
    return this.library.ground(question);
  }

  /** Adds the sources and linked citations of a grounded reply to its message element. */
  decorate(article: HTMLElement, m: StoredMessage): void {
    const sources = m.sources;
    if (m.role !== 'assistant' || !sources || sources.length === 0) return;
    const items = sources.map((s, i) => el('li', {},
      el('button', { type: 'button', className: 'link source', testid: 'source', onclick: () => { void this.openSource(s); } }, `[${i + 1}] ${s.title} · passage ${s.passage + 1}`),
      el('span', { className: 'muted small snippet' }, ` ${s.text.length > 140 ? `${s.text.slice(0, 140)}…` : s.text}`)));
    const prompt = el('details', { className: 'grounded-prompt', testid: 'grounded-prompt' }, el('summary', {}, 'What the model was given'), el('pre', {}, m.groundedPrompt ?? ''));
    const box = el('details', { className: 'sources', testid: 'sources', open: true }, el('summary', {}, `Sources (${sources.length})`), el('ol', {}, ...items), prompt);
    article.querySelector('.message-actions')?.before(box);
    this.linkCitations(article.querySelector<HTMLElement>('.content'), sources);
  }

  private linkCitations(content: HTMLElement | null, sources: SourceRef[]): void {
    if (!content) return;
    const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT, { acceptNode: (n) => (n.parentElement?.closest('code, pre') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT) });
    const texts: Text[] = [];
    while (walker.nextNode()) texts.push(walker.currentNode as Text);
    for (const node of texts) {
      const parts = node.data.split(/(\[\d+(?:\s*,\s*\d+)*\])/);
      if (parts.length === 1) continue;
      const out = parts.map((part) => {
        const cited = /^\[[\d,\s]+\]$/.test(part) ? citedSources(part, sources) : [];
        if (cited.length === 0) return part;
        const span = el('span', { className: 'citations' });
        for (const { number, hit } of cited) {
          span.append(el('button', { type: 'button', className: 'link citation', testid: 'citation', title: `${hit.title}, passage ${hit.passage + 1}`, onclick: () => { void this.openSource(sources[number - 1]!); } }, `[${number}]`));
        }
        return span;
      });
      node.replaceWith(...out);
    }
  }

  /** The dialog with the source's passage marked in its document (or the passage alone, the document being gone). */
  async openSource(s: SourceRef): Promise<void> {
    const doc = await this.library.passageText(s).catch(() => undefined);
    const body = el('div', { className: 'source-text', testid: 'source-text' });
    const mark = el('mark', { testid: 'source-passage' }, s.text);
    if (doc && doc.text.slice(s.start, s.end) === s.text) body.append(doc.text.slice(0, s.start), mark, doc.text.slice(s.end));
    else body.append(el('p', { className: 'muted small' }, 'The document has been deleted since; this is the passage as the reply saw it.'), mark);
    const close = el('button', { type: 'button', className: 'icon secondary', ariaLabel: 'Close', onclick: () => this.dialog.close() }, '✕');
    this.dialog.replaceChildren(el('div', { className: 'dialog-head' }, el('h2', { testid: 'source-title' }, `${s.title} · passage ${s.passage + 1}`), close), body);
    this.dialog.showModal();
    mark.scrollIntoView({ block: 'center' });
  }

  private async addFiles(files: File[]): Promise<void> {
    if (files.length === 0) return;
    const controller = new AbortController();
    this.adding = controller;
    this.progress.hidden = false;
    this.cancelAdd.hidden = false;
    this.progress.removeAttribute('value');
    this.note.textContent = `Reading ${files.length} file${files.length > 1 ? 's' : ''}…`;
    try {
      const added = await this.library.add(files, (p) => this.indexProgress(p), controller.signal);
      this.note.textContent = `Added ${added.map((d) => `${d.title} (${d.passages} passages)`).join(', ')}.`;
      this.showEmbedder();
    } catch (e) {
      this.failed(e);
    } finally {
      this.files.value = '';
      this.adding = undefined;
      this.progress.hidden = true;
      this.cancelAdd.hidden = true;
      await this.refresh();
    }
  }

  private async remove(id: string, title: string): Promise<void> {
    try {
      await this.library.remove(id);
      this.note.textContent = `Deleted ${title}.`;
    } catch (e) {
      this.failed(e);
    }
    await this.refresh();
  }

  private async refresh(): Promise<number> {
    const docs = await this.library.stored().catch(() => []);
    this.count.textContent = docs.length ? `(${docs.length})` : '';
    this.list.replaceChildren(...docs.map((d) => el('li', { className: 'document', testid: 'document' },
      el('span', { className: 'document-title', title: `${d.chars} characters` }, d.title),
      el('span', { className: 'muted small' }, ` ${d.passages} passage${d.passages === 1 ? '' : 's'}`),
      el('button', { type: 'button', className: 'icon link delete', testid: 'remove-document', ariaLabel: `Delete document “${d.title}”`, onclick: () => { void this.remove(d.id, d.title); } }, '✕'))));
    document.body.dataset.documents = String(docs.length); // for tests: the list is current
    return docs.length;
  }

  private loadProgress(p: LoadProgress): void {
    this.progress.hidden = false;
    if (p.total > 0) this.progress.value = p.loaded / p.total;
    this.note.textContent = 'Loading the embedding model…';
  }

  private indexProgress(p: IndexProgress): void {
    this.progress.value = p.done / p.total;
    this.note.textContent = `Embedding ${p.document}: ${p.done} of ${p.total} passages`;
  }

  private showEmbedder(): void {
    this.progress.hidden = true;
    if (this.library.embedderName && !this.note.textContent) this.note.textContent = `Embedding model: ${this.library.embedderName}.`;
  }

  private failed(e: unknown): void {
    this.progress.hidden = true;
    this.note.textContent = `Documents: ${e instanceof Error ? e.message : String(e)}`;
    if ((e as { name?: string })?.name !== 'AbortError') this.hooks.error(e);
  }
}
