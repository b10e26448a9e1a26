import type { Plugin } from 'vite';
export function compactWgsl(code: string): string;
export function wgslRaw(): Plugin;
