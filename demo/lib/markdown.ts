// Model replies as markdown, rendered so that nothing a model writes can run script or load anything.
// Two layers: marked is told to show raw HTML as text (a reply that contains `<img onerror=…>` shows those
// characters, as the model wrote them), and DOMPurify then sanitizes what marked produced, allowing only a
// small set of formatting tags and http(s)/mailto links. Used by the chat app and by <hearth-chat>.
import { Marked, type Tokens } from 'marked';
import DOMPurify from 'dompurify';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    // Raw HTML in a reply is shown, not interpreted.
    html({ text }: Tokens.HTML | Tokens.Tag) { return escapeHtml(text); },
    // Images would fetch from wherever the model points (tracking, mixed content): show a link instead.
    image({ href, text }: Tokens.Image) { return `<a href="${escapeHtml(href)}">${escapeHtml(text || href)}</a>`; },
  },
});

const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'strong', 'em', 'del', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'input', 'span',
];
const ALLOWED_ATTR = ['href', 'title', 'class', 'type', 'checked', 'disabled', 'start', 'align'];
/** Link targets a reply may use; everything else (javascript:, data:, vbscript:, relative paths) is dropped. */
const SAFE_URL = /^(?:https?:|mailto:)/i;

let hooked = false;
function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') ?? '';
      if (!SAFE_URL.test(href.trim())) node.removeAttribute('href');
      else {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    }
    // Task-list checkboxes only; no other form control survives.
    if (node.tagName === 'INPUT' && (node.getAttribute('type') !== 'checkbox' || !node.hasAttribute('disabled'))) node.remove();
    // Only marked's own language class on code blocks.
    const cls = node.getAttribute('class');
    if (cls !== null && !/^language-[\w+#-]+$/.test(cls)) node.removeAttribute('class');
  });
}

/** Sanitized HTML for a reply's markdown (a fragment, safe to assign to innerHTML). */
function renderMarkdown(text: string): string {
  installHooks();
  const html = marked.parse(text) as string;
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS, ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  });
}

/**
 * Renders `text` into `el` and gives each code block a Copy button (made here, not from model output).
 * `copy` is called with the code's text.
 */
export function renderReply(el: HTMLElement, text: string, copy: (text: string) => void): void {
  el.innerHTML = renderMarkdown(text);
  for (const pre of el.querySelectorAll('pre')) {
    const code = pre.querySelector('code');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-code';
    button.textContent = 'Copy code';
    const lang = /language-([\w+#-]+)/.exec(code?.className ?? '')?.[1];
    button.setAttribute('aria-label', lang ? `Copy ${lang} code` : 'Copy code');
    button.addEventListener('click', () => copy(code?.textContent ?? pre.textContent ?? ''));
    pre.append(button);
  }
}
