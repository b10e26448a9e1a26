// Words for what the engine reports: load progress lines and error explanations with a next step.
import type { LoadProgress } from '../src/index';

const phaseLabels: Record<LoadProgress['phase'], string> = {
  download: 'Downloading',
  'cache-read': 'Reading from the model cache',
  upload: 'Uploading weights to the GPU',
  compile: 'Compiling GPU kernels',
  ready: 'Ready',
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** Last path segment of a URL (or the string itself), for short status lines. */
export function shortName(source: string): string {
  try {
    const path = new URL(source, location.href).pathname;
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || source;
  } catch {
    return source;
  }
}

/** "Downloading stories260K.gguf: 45% (0.5 of 1.1 MB, 3.1 MB/s)". */
export function describeProgress(p: LoadProgress, name: string): string {
  const label = phaseLabels[p.phase] ?? p.phase;
  if (p.phase === 'ready') return `${label}`;
  const parts: string[] = [];
  const bytes = p.phase !== 'compile';
  if (p.total > 0) {
    parts.push(`${Math.floor((100 * p.loaded) / p.total)}%`);
    parts.push(bytes ? `${formatBytes(p.loaded)} of ${formatBytes(p.total)}` : `${p.loaded} of ${p.total}`);
  } else if (p.loaded > 0) {
    parts.push(bytes ? formatBytes(p.loaded) : String(p.loaded));
  }
  if (bytes && p.rate > 0 && p.phase === 'download') parts.push(`${formatBytes(Math.round(p.rate))}/s`);
  return `${label} ${name}${parts.length ? `: ${parts.join(' · ')}` : '…'}`;
}

/** Errors that take over the chat area with their own screen (and, for downloads, a Retry button). */
type ScreenKind = 'no-webgpu' | 'too-large' | 'download-failed';

export interface ErrorExplanation { title: string; message: string; hint: string; screen?: ScreenKind }

const LOAD_ANOTHER = 'You can load another model with “Choose another model”.';

/** Title and next step for an error the engine threw (typed HearthErrors carry a `code`). */
export function explainError(e: unknown): ErrorExplanation {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'resources':
      if (!navigator.gpu || /WebGPU is not available|No WebGPU adapter/.test(message)) {
        return {
          title: 'WebGPU is not available in this browser',
          message,
          screen: 'no-webgpu',
          hint: 'Use Chrome or Edge 113 or newer on a desktop, and open the page over https or http://localhost. ' +
            'On Linux, enable chrome://flags/#enable-unsafe-webgpu and #enable-vulkan, then restart the browser.',
        };
      }
      return {
        title: 'This model is too large for this device',
        message,
        screen: 'too-large',
        hint: 'Pick a smaller or more quantized model (Q4_K_M instead of Q8_0 or F16), or close other GPU-heavy tabs and retry. ' + LOAD_ANOTHER,
      };
    case 'format':
      return {
        title: 'This is not a valid GGUF file',
        message,
        hint: 'Check that the URL points to the .gguf file itself (not a web page about it) and that it is complete. ' + LOAD_ANOTHER,
      };
    case 'unsupported':
      return {
        title: 'This model is not supported yet',
        message,
        hint: 'The message names what Hearth supports instead: pick a GGUF of one of those architectures and weight types. ' + LOAD_ANOTHER,
      };
    case 'download':
      return explainDownload(message, httpStatus(e, message));
    case 'invalid_request':
      return { title: 'These settings do not work', message, hint: 'Check the generation settings (in the sidebar) and try again.' };
    default:
      return {
        title: 'Something went wrong',
        message,
        hint: 'Reload the page. If it happens again, the browser console has details.',
      };
  }
}

/** The HTTP status of a failed download: the error's own, or (across the worker, where only the message survives) from its text. */
function httpStatus(e: unknown, message: string): number | undefined {
  const status = (e as { status?: unknown } | null)?.status;
  if (typeof status === 'number') return status;
  const m = /\bHTTP (\d{3})\b/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** A server's answer (404, 403, 5xx) needs another next step than a request that never got one (network, CORS). */
function explainDownload(message: string, status: number | undefined): ErrorExplanation {
  const screen: ScreenKind = 'download-failed';
  if (status === 404 || status === 410) {
    return {
      title: 'Model file not found', message, screen,
      hint: 'The server answered that there is no file at that address: check the URL or model id (spelling, path, file name), then retry. ' + LOAD_ANOTHER,
    };
  }
  if (status === 401 || status === 403) {
    return {
      title: 'Access to the model was denied', message, screen,
      hint: 'The model may be gated or private: accept its license on its page, or download it and open the file from your computer. ' + LOAD_ANOTHER,
    };
  }
  if (status !== undefined) {
    return { title: 'The model server failed', message, screen, hint: `The server answered HTTP ${status}. Retry in a moment. ` + LOAD_ANOTHER };
  }
  return {
    title: 'Download failed', message, screen,
    hint: 'Check your connection and retry. A server on another origin must allow CORS requests, including the Range header. ' + LOAD_ANOTHER,
  };
}
