// Documents as plain text for splitting and embedding: Markdown without its markup's noise (link targets, image
// addresses, emphasis marks, HTML comments), HTML as the text a reader sees with blocks as paragraphs (the browser's
// DOMParser where there is one, a small tag stripper in Node). PDF needs pdf.js, which the app loads itself.
import { InvalidRequestError } from '../errors';

export type DocumentType = 'text' | 'markdown' | 'html';
const DOCUMENT_TYPES: readonly DocumentType[] = ['text', 'markdown', 'html'];

/** The type of a file from its name (and MIME type): .md/.markdown, .html/.htm, else text. */
export function documentTypeOf(name: string, mime = ''): DocumentType {
  if (/\.(md|markdown|mdx)$/i.test(name) || mime === 'text/markdown') return 'markdown';
  if (/\.x?html?$/i.test(name) || mime === 'text/html' || mime === 'application/xhtml+xml') return 'html';
  return 'text';
}

function markdownText(md: string): string {
  return md
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1') // images: their alt text
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1') // links: their text
    .replace(/^\s{0,3}\[[^\]]+\]:\s*\S+.*$/gm, '') // link definitions
    .replace(/^(\s{0,3})(?:#{1,6}\s+|>\s?|[-*+]\s+(?=\S))/gm, '$1') // heading, quote and bullet marks
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/(^|[^\w*])([*_])(?=\S)([^*_\n]*?\S)\2(?![\w*])/g, '$1$3')
    .replace(/^\s{0,3}(?:```|~~~).*$/gm, '') // code fences (the code stays)
    .replace(/`([^`\n]+)`/g, '$1');
}

const BLOCKS = new Set(['address', 'article', 'aside', 'blockquote', 'br', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'td', 'th', 'tr', 'ul']);
const HIDDEN = new Set(['script', 'style', 'noscript', 'template', 'head', 'svg']);

/** Blank lines between blocks, single spaces within them. */
function tidy(text: string): string {
  return text.split(/\n\s*\n/).map((p) => p.replace(/\s+/g, ' ').trim()).filter(Boolean).join('\n\n');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[e.toLowerCase()] ?? all;
  });
}

/** Node's fallback: comments and hidden elements dropped, block tags as paragraph breaks, entities decoded. */
export function stripTags(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(new RegExp(`<(${[...HIDDEN].join('|')})\\b[\\s\\S]*?</\\1\\s*>`, 'gi'), '')
    .replace(/<\/?([a-z][\w-]*)\b[^>]*>/gi, (_, tag: string) => (BLOCKS.has(tag.toLowerCase()) ? '\n\n' : ''));
  return tidy(decodeEntities(text));
}

function domText(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  let out = '';
  const walk = (node: Node) => {
    if (node.nodeType === Node.TEXT_NODE) { out += node.textContent ?? ''; return; }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const tag = (node as Element).localName;
    if (HIDDEN.has(tag)) return;
    const block = BLOCKS.has(tag);
    if (block) out += '\n\n';
    for (const child of node.childNodes) walk(child);
    if (block) out += '\n\n';
  };
  walk(doc.body ?? doc.documentElement);
  return tidy(out);
}

function htmlText(html: string): string {
  return typeof DOMParser === 'function' ? domText(html) : stripTags(html);
}

/** A document's content (of `type`) as the plain text that is split, embedded and quoted. */
export function documentText(content: string, type: DocumentType = 'text'): string {
  if (typeof content !== 'string') throw new InvalidRequestError(`a document's text must be a string, got ${content === null ? 'null' : typeof content}`);
  if (type === 'markdown') return markdownText(content);
  if (type === 'html') return htmlText(content);
  if (type === 'text') return content;
  throw new InvalidRequestError(`document type must be one of ${DOCUMENT_TYPES.join(', ')}; got ${JSON.stringify(type)}`);
}
