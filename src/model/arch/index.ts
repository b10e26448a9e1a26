// The architectures Hearth runs, by `general.architecture` (llama.cpp's names).
import type { ArchReader } from './common';
import { readBert, readNomicBert } from './bert';
import { readGemma2, readGemma3 } from './gemma';
import { readGPT2 } from './gpt2';
import { readLlama } from './llama';
import { readPhi3 } from './phi3';
import { readQwen2, readQwen3 } from './qwen';

export type { ArchReader } from './common';

export const ARCHITECTURES: Readonly<Record<string, ArchReader>> = {
  llama: readLlama,
  qwen2: readQwen2,
  qwen3: readQwen3,
  phi3: readPhi3,
  gemma2: readGemma2,
  gemma3: readGemma3,
  gpt2: readGPT2,
  bert: readBert,
  'nomic-bert': readNomicBert,
};

export const SUPPORTED_ARCHITECTURES: readonly string[] = Object.keys(ARCHITECTURES);
