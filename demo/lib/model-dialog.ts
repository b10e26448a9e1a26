// The model picker: the bundled model and the curated hub list, each with its pre-flight verdict (asked
// once per visit, when the dialog first opens), plus a URL field and a file picker.
import { formatBytes } from '../describe';
import { MODEL_CHOICES, preflight, type ModelChoice, type Verdict } from './models';

export interface ModelDialogOptions {
  dialog: HTMLDialogElement;
  list: HTMLElement;
  form: HTMLFormElement;
  url: HTMLInputElement;
  file: HTMLInputElement;
  /** The user chose a model. */
  onPick(source: string | File): void;
  /** Memory another loaded model holds beside the chat model (the documents' embedding model), which the check leaves out of the budget. */
  reservedBytes?(): number;
}

const verdictText = { ok: 'Fits this device', no: 'Too large for this device', unknown: 'Not checked' } as const;

export class ModelDialog {
  private readonly verdicts = new Map<string, Verdict>();
  private current = '';

  constructor(private readonly o: ModelDialogOptions) {
    o.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const url = o.url.value.trim();
      if (!url) return;
      o.dialog.close();
      o.onPick(url);
    });
    o.file.addEventListener('change', () => {
      const file = o.file.files?.[0];
      if (!file) return;
      o.dialog.close();
      o.onPick(file);
    });
    // A click on the backdrop (outside the dialog's box) closes it, like Escape.
    o.dialog.addEventListener('click', (e) => { if (e.target === o.dialog) o.dialog.close(); });
  }

  /** Marks the model now loaded (by its source as given to createEngine). */
  setCurrent(source: string): void {
    this.current = source;
    this.render();
  }

  open(prefillUrl?: string): void {
    if (prefillUrl !== undefined) this.o.url.value = prefillUrl;
    this.render();
    if (!this.o.dialog.open) this.o.dialog.showModal();
    void this.checkAll();
  }

  private async checkAll(): Promise<void> {
    for (const choice of MODEL_CHOICES) {
      if (this.verdicts.has(choice.source)) continue;
      this.verdicts.set(choice.source, { kind: 'unknown', reasons: ['checking…'] });
      this.render();
      this.verdicts.set(choice.source, await preflight(choice.source, undefined, this.o.reservedBytes?.() ?? 0));
      this.render();
    }
  }

  private render(): void {
    this.o.list.replaceChildren(...MODEL_CHOICES.map((c) => this.item(c)));
  }

  private item(c: ModelChoice): HTMLElement {
    const li = document.createElement('li');
    li.className = 'model-choice';
    const verdict = this.verdicts.get(c.source);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.dataset.testid = 'model-choice';
    const isCurrent = new URL(c.source, location.href).href === new URL(this.current || 'about:blank', location.href).href;
    button.textContent = isCurrent ? 'Loaded' : 'Load';
    button.disabled = isCurrent || verdict?.kind === 'no';
    button.setAttribute('aria-label', `Load ${c.label}, ${formatBytes(Math.round(c.bytes))}`);
    button.addEventListener('click', () => { this.o.dialog.close(); this.o.onPick(c.source); });

    const text = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = c.label;
    const detail = document.createElement('span');
    detail.className = 'muted small';
    detail.textContent = c.detail;
    const badge = document.createElement('span');
    badge.className = `verdict ${verdict?.kind ?? 'unknown'}`;
    badge.dataset.testid = 'verdict';
    const reasons = verdict?.reasons.join('; ') ?? '';
    badge.textContent = reasons === 'checking…' ? 'Checking…' : verdictText[verdict?.kind ?? 'unknown'];
    const why = document.createElement('span');
    why.className = 'muted small';
    why.dataset.testid = 'verdict-reasons';
    why.textContent = reasons === 'checking…' ? '' : reasons;
    text.append(name, detail, badge, why);
    li.append(text, button);
    return li;
  }
}
