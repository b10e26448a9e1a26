// The OpenAI REST API served in-process, for the OpenAI SDK's `fetch` option:
//   new OpenAI({ apiKey: 'unused', baseURL: 'https://hearth.local/v1', fetch: openaiFetch(engine), dangerouslyAllowBrowser: true })
// Each request goes to the engine's OpenAI-shaped methods and comes back as the Response OpenAI's servers send:
// JSON, or server-sent events (`data: {chunk}` … `data: [DONE]`) for stream: true; errors as OpenAI's error body
// with the status the engine's typed error maps to, so the SDK throws its own BadRequestError etc. No server and
// no protocol of Hearth's own: the request's URL picks the method, its body is the method's parameters.
import { abortError, HearthError, isAbortError, type HearthErrorCode } from '../../errors';
import type { Engine } from '../api';
import type { ModelInfo } from '../types';

/** The part of an Engine the REST routes use. */
export type OpenAIFetchEngine = Pick<Engine, 'model' | 'chat' | 'completions' | 'embeddings'>;

/** A `fetch` as the OpenAI SDK (and anything else written against fetch) calls it. */
export type OpenAIFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

type Post = (engine: OpenAIFetchEngine, body: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

/** POST routes by the path's ending (the base URL's own path is the caller's choice); the longer suffix first. */
const POSTS: [suffix: string, serve: Post][] = [
  ['/chat/completions', (engine, body, signal) => engine.chat.completions.create(body as never, { signal })],
  ['/completions', (engine, body, signal) => engine.completions.create(body as never, { signal })],
  ['/embeddings', (engine, body) => engine.embeddings.create(body as never)],
];

/** OpenAI's HTTP status and error type for each of Hearth's error kinds. */
const STATUS: Record<HearthErrorCode, [status: number, type: string]> = {
  invalid_request: [400, 'invalid_request_error'],
  unsupported: [400, 'invalid_request_error'],
  format: [500, 'server_error'],
  download: [502, 'server_error'],
  resources: [503, 'server_error'],
};

/**
 * A fetch function serving OpenAI's routes from `engine`: POST /chat/completions, /completions and /embeddings,
 * GET /models and /models/{id}. The request's signal (the SDK's timeout, `stream.controller.abort()`, a `break`
 * out of a stream) cancels the generation; fetch then rejects, or the body errors, with an AbortError.
 */
export function openaiFetch(engine: OpenAIFetchEngine): OpenAIFetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const signal = init?.signal ?? request.signal;
    if (signal.aborted) throw signal.reason ?? abortError();
    try {
      const response = await respond(engine, request, signal);
      // An aborted non-streamed request ends with finish_reason 'abort'; fetch rejects instead, as a real one does.
      if (signal.aborted) throw signal.reason ?? abortError();
      return response;
    } catch (e) {
      if (isAbortError(e)) throw e;
      return errorResponse(e);
    }
  };
}

async function respond(engine: OpenAIFetchEngine, request: Request, signal: AbortSignal): Promise<Response> {
  const path = new URL(request.url).pathname.replace(/\/+$/, '');
  const models = /\/models(?:\/([^/]+))?$/.exec(path);
  const post = POSTS.find(([suffix]) => path.endsWith(suffix));
  if (!models && !post) return apiError(404, `Invalid URL (${request.method} ${path})`, 'invalid_request_error', 'unknown_url');
  const method = models ? 'GET' : 'POST';
  if (request.method !== method) return apiError(405, `Method ${request.method} is not allowed on ${path} (use ${method})`, 'invalid_request_error', 'method_not_allowed');
  if (models) return modelsResponse(engine.model, models[1]);
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return apiError(400, 'We could not parse the JSON body of your request (it must be a JSON object of the parameters).', 'invalid_request_error', null);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return apiError(400, 'The request body must be a JSON object of the parameters.', 'invalid_request_error', null);
  const result = await post![1](engine, body as Record<string, unknown>, signal);
  if ((body as { stream?: unknown }).stream === true) return await eventStream(result as AsyncIterable<unknown>, signal);
  return json(200, result);
}

/** GET /models lists the loaded model; GET /models/{id} returns it, or 404 for any other id. */
function modelsResponse(info: ModelInfo, id: string | undefined): Response {
  // `created` is when the model was made; a model file does not say, so 0.
  const model = { id: info.name, object: 'model', created: 0, owned_by: 'hearth' };
  if (id === undefined) return json(200, { object: 'list', data: [model] });
  if (decodeURIComponent(id) === info.name) return json(200, model);
  return apiError(404, `The model '${decodeURIComponent(id)}' does not exist (the engine has '${info.name}' loaded)`, 'invalid_request_error', 'model_not_found');
}

/**
 * Server-sent events, one `data:` line per chunk as the engine yields it, then `data: [DONE]`. The response waits
 * for the first generated chunk, so that an error the engine raises as it starts (a tool schema it cannot
 * constrain, a prompt over the context) gets its HTTP status, as OpenAI's do; a later error is sent as OpenAI
 * sends it, an `{ error }` event (the SDK's stream throws it as an APIError). An abort errors the body with the
 * AbortError, as a real fetch's body does, and ends the engine's stream.
 */
async function eventStream(chunks: AsyncIterable<unknown>, signal: AbortSignal): Promise<Response> {
  const iterator = chunks[Symbol.asyncIterator]();
  const head: IteratorResult<unknown>[] = [];
  // Chat streams open with a role chunk made before the engine runs: the second is the first generated.
  for (let i = 0; i < 2 && !head.at(-1)?.done; i++) head.push(await iterator.next());
  const encoder = new TextEncoder();
  let ended = false;
  const end = () => { ended = true; signal.removeEventListener('abort', onAbort); void iterator.return?.(); };
  let onAbort = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      onAbort = () => { if (!ended) { controller.error(signal.reason ?? abortError()); end(); } };
      signal.addEventListener('abort', onAbort, { once: true });
    },
    async pull(controller) {
      let data: string;
      let last = true;
      try {
        const next = head.shift() ?? await iterator.next();
        last = next.done === true;
        data = next.done ? '[DONE]' : JSON.stringify(next.value);
      } catch (e) {
        if (ended) return;
        if (isAbortError(e)) { controller.error(e); end(); return; }
        data = JSON.stringify(errorBody(e));
      }
      if (ended) return;
      controller.enqueue(encoder.encode(`data: ${data}\n\n`));
      if (last) { controller.close(); end(); }
    },
    cancel() { end(); },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } });
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** OpenAI's error body; `code` is Hearth's error kind (HearthError.code) where the error has one. */
function errorBody(e: unknown, type = 'server_error'): { error: { message: string; type: string; param: null; code: string | null } } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof HearthError) return { error: { message, type: STATUS[e.code][1], param: null, code: e.code } };
  return { error: { message, type, param: null, code: null } };
}

function errorResponse(e: unknown): Response {
  const status = e instanceof HearthError ? STATUS[e.code][0] : 500;
  // A retry would fail the same way: the engine's errors are about the request or the device, not the network.
  return json(status, errorBody(e), { 'x-should-retry': 'false' });
}

function apiError(status: number, message: string, type: string, code: string | null): Response {
  return json(status, { error: { message, type, param: null, code } }, { 'x-should-retry': 'false' });
}
