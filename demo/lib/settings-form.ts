// The settings panel: its inputs shown from the stored settings and stored back when they change, read as
// generation options for a reply; and the live decode rate shown while a reply streams.
import { InvalidRequestError, type GenerateOptions } from '../../src/index';
import { saveSettings, type Settings } from './store';

export interface SettingsInputs {
  maxTokens: HTMLInputElement; temperature: HTMLInputElement; topK: HTMLInputElement; topP: HTMLInputElement; seed: HTMLInputElement;
  theme: HTMLSelectElement; tools: HTMLInputElement;
}

export function showSettings(ui: SettingsInputs, settings: Settings): void {
  ui.maxTokens.value = String(settings.maxTokens);
  ui.temperature.value = String(settings.temperature);
  ui.topK.value = String(settings.topK);
  ui.topP.value = String(settings.topP);
  ui.seed.value = String(settings.seed);
  ui.theme.value = settings.theme;
  ui.tools.checked = settings.tools === true;
  applyTheme(settings);
}

/** Keeps what the inputs say (a value that is not a number keeps the stored one). */
export function storeSettings(ui: SettingsInputs, settings: Settings): void {
  const num = (input: HTMLInputElement, fallback: number) => (input.value.trim() === '' || !Number.isFinite(Number(input.value)) ? fallback : Number(input.value));
  settings.maxTokens = num(ui.maxTokens, settings.maxTokens);
  settings.temperature = num(ui.temperature, settings.temperature);
  settings.topK = num(ui.topK, settings.topK);
  settings.topP = num(ui.topP, settings.topP);
  settings.seed = num(ui.seed, settings.seed);
  settings.theme = ui.theme.value as Settings['theme'];
  settings.tools = ui.tools.checked;
  applyTheme(settings);
  saveSettings(settings);
}

function applyTheme(settings: Settings): void {
  if (settings.theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = settings.theme;
}

/** The settings panel as GenerateOptions; a value out of range is an InvalidRequestError naming the field. */
export function readOptions(ui: SettingsInputs): GenerateOptions {
  const read = (input: HTMLInputElement, label: string, fallback: number, ok: (n: number) => boolean, rule: string) => {
    const n = input.value.trim() === '' ? fallback : Number(input.value);
    if (!Number.isFinite(n) || !ok(n)) throw new InvalidRequestError(`${label} must be ${rule}, got '${input.value}'`);
    return n;
  };
  return {
    maxTokens: read(ui.maxTokens, 'Max tokens', 256, (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
    temperature: read(ui.temperature, 'Temperature', 0, (n) => n >= 0, '0 (greedy) or more'),
    topK: read(ui.topK, 'Top-k', 0, (n) => Number.isInteger(n) && n >= 0, 'a whole number of at least 0 (0 = off)'),
    topP: read(ui.topP, 'Top-p', 1, (n) => n > 0 && n <= 1, 'above 0 and at most 1'),
    seed: read(ui.seed, 'Seed', 0, (n) => Number.isInteger(n) && n >= 0, 'a whole number of at least 0'),
  };
}

/** Live decode rate: tokens after the first over the time since the first (prefill excluded). */
export class DecodeMeter {
  private start = 0;
  private tokens = 0;

  constructor(private readonly rate: HTMLElement, private readonly stats: HTMLElement) {}

  reset(): void {
    this.tokens = 0;
    this.rate.textContent = '– tok/s';
    this.stats.textContent = '';
  }

  tick(): void {
    const now = performance.now();
    if (++this.tokens === 1) { this.start = now; return; }
    const seconds = (now - this.start) / 1000;
    if (seconds > 0) this.rate.textContent = `${((this.tokens - 1) / seconds).toFixed(1)} tok/s`;
  }
}
