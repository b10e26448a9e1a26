// Conversations kept in IndexedDB (database 'hearth-chat', store 'conversations', one record per
// conversation), so history survives reloads and works offline. Settings are small and go to localStorage.
import type { SourceRef } from './documents';
import type { Message } from './turn';

export interface ReplyStats {
  tokens: number;
  promptTokens: number;
  cachedTokens: number;
  tokensPerSecond: number;
  finishReason: 'stop' | 'length' | 'abort';
  model: string;
}

export interface StoredMessage extends Message {
  /** Replies only: how it was generated. */
  stats?: ReplyStats;
  /** Replies grounded in the user's documents: the passages given to the model, and the prompt they made. */
  sources?: SourceRef[];
  groundedPrompt?: string;
}

export interface Conversation {
  id: string;
  title: string;
  systemPrompt: string;
  messages: StoredMessage[];
  /** Milliseconds since the epoch. */
  created: number;
  updated: number;
}

const DB_NAME = 'hearth-chat';
const STORE = 'conversations';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class ConversationStore {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(): Promise<ConversationStore> {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      const store = open.result.createObjectStore(STORE, { keyPath: 'id' });
      store.createIndex('updated', 'updated');
    };
    return new ConversationStore(await request(open));
  }

  /** Newest first. */
  async list(): Promise<Conversation[]> {
    const all = await request(this.db.transaction(STORE).objectStore(STORE).getAll() as IDBRequest<Conversation[]>);
    return all.sort((a, b) => b.updated - a.updated);
  }

  async get(id: string): Promise<Conversation | undefined> {
    return request(this.db.transaction(STORE).objectStore(STORE).get(id) as IDBRequest<Conversation | undefined>);
  }

  async put(c: Conversation): Promise<void> {
    // A structured clone of plain data: no DOM nodes or class instances end up in the database.
    await request(this.db.transaction(STORE, 'readwrite').objectStore(STORE).put(structuredClone(c)));
  }

  async delete(id: string): Promise<void> {
    await request(this.db.transaction(STORE, 'readwrite').objectStore(STORE).delete(id));
  }
}

export function newConversation(systemPrompt: string): Conversation {
  const now = Date.now();
  // randomUUID needs a secure context; history still works on a plain-http page without WebGPU.
  const id = crypto.randomUUID?.() ?? `${now.toString(36)}-${Math.random().toString(36).slice(2)}`;
  return { id, title: 'New chat', systemPrompt, messages: [], created: now, updated: now };
}

/** A title from the first user message: its first line, cut at a word near 48 characters. */
export function titleFrom(text: string): string {
  const line = text.trim().split('\n')[0]!.replace(/\s+/g, ' ');
  if (line.length <= 48) return line || 'New chat';
  const cut = line.slice(0, 48);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 32))}…`;
}

export interface Settings {
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  systemPrompt: string;
  theme: 'auto' | 'light' | 'dark';
  /** Let the model call the example tools (lib/tools.ts). */
  tools?: boolean;
  /** The model to load at start: a URL (absolute or relative to the page). */
  model: string;
}

const SETTINGS_KEY = 'hearth-chat.settings';

export function loadSettings(defaults: Settings): Settings {
  try {
    const saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') as Partial<Settings>;
    return { ...defaults, ...saved };
  } catch {
    return defaults;
  }
}

export function saveSettings(s: Settings): void {
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
  } catch {
    // Storage full or disabled: settings then last for this visit only.
  }
}
