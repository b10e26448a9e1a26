// The error family. Every failure a user can cause or fix has one of these,
// with a message that says what went wrong and what to do next.

/** Machine-readable kind of a HearthError; survives the worker boundary. */
export type HearthErrorCode = 'format' | 'unsupported' | 'download' | 'resources' | 'invalid_request';

export class HearthError extends Error {
  readonly code: HearthErrorCode;
  constructor(code: HearthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The file is not what it claims to be: bad magic, truncated, inconsistent sizes. */
export class FormatError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) { super('format', message, options); }
}

/** A valid file that uses something Hearth does not implement (architecture, tensor type, version). */
export class UnsupportedError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) { super('unsupported', message, options); }
}

/** The network or a server failed: wrong URL, HTTP error, connection lost. */
export class DownloadError extends HearthError {
  readonly status?: number;
  /** True when trying again may work (connection lost, HTTP 5xx or 429); the loaders retry these themselves. */
  readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown; status?: number; retryable?: boolean }) {
    super('download', message, options);
    if (options?.status !== undefined) this.status = options.status;
    this.retryable = options?.retryable ?? false;
  }
}

/** The device cannot do it: no WebGPU, model too large for its limits, out of memory. */
export class ResourceError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) { super('resources', message, options); }
}

/** The caller passed options that make no sense (negative max tokens, top_p > 1, ...). */
export class InvalidRequestError extends HearthError {
  constructor(message: string, options?: { cause?: unknown }) { super('invalid_request', message, options); }
}

/** Cancellation is reported the way fetch reports it: a DOMException named AbortError. */
export function abortError(message = 'The operation was aborted.'): DOMException {
  return new DOMException(message, 'AbortError');
}

export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

const classesByCode: Record<HearthErrorCode, new (message: string, options?: { cause?: unknown }) => HearthError> = {
  format: FormatError,
  unsupported: UnsupportedError,
  download: DownloadError,
  resources: ResourceError,
  invalid_request: InvalidRequestError,
};

/** A typed field of an error (DownloadError.status, .retryable, ...): plain data that survives postMessage. */
type FieldValue = string | number | boolean | null;

/** Plain-object form of an error, for crossing a postMessage boundary. */
export interface SerializedError {
  name: string;
  message: string;
  code?: HearthErrorCode;
  stack?: string;
  /** The error's own plain-data fields beyond name, message, stack and code. */
  fields?: Record<string, FieldValue>;
  cause?: SerializedError;
}

/** Causes kept across the boundary (an error's cause's cause ...). */
const MAX_CAUSE_DEPTH = 4;

export function serializeError(e: unknown, depth = 0): SerializedError {
  if (!(e instanceof Error || e instanceof DOMException)) return { name: 'Error', message: String(e) };
  const s: SerializedError = { name: e.name, message: e.message, stack: e.stack };
  if (e instanceof HearthError) s.code = e.code;
  const fields: Record<string, FieldValue> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key === 'code' || key === 'name' || key === 'message' || key === 'stack') continue;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value as FieldValue;
  }
  if (Object.keys(fields).length > 0) s.fields = fields;
  const cause = (e as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_CAUSE_DEPTH) s.cause = serializeError(cause, depth + 1);
  return s;
}

/**
 * Rebuilds the typed error on the receiving side, so `instanceof FormatError` works across the worker and
 * its fields (DownloadError's status and retryable, ...) are there as thrown.
 */
export function deserializeError(s: SerializedError): Error {
  if (s.name === 'AbortError') return abortError(s.message);
  const Cls = s.code ? classesByCode[s.code] : undefined;
  const cause = s.cause ? { cause: deserializeError(s.cause) } : undefined;
  const e = Cls ? new Cls(s.message, cause) : Object.assign(new Error(s.message, cause), { name: s.name });
  if (s.fields) Object.assign(e, s.fields);
  if (s.stack) e.stack = s.stack;
  return e;
}
