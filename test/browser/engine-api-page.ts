// Test page for the engine API in Chromium: the public API as a user imports it, plus the helpers the tests
// run inside the page (models built in memory, shape and schema checks, GPU buffer counting).
import { hearth } from './webgpu-default';
import { CHATML, tinyChatModel } from '../helpers/tiny-chat-model';
import { chatChunkProblems, chatCompletionProblems } from '../helpers/openai-shapes';
import { schemaProblems } from '../helpers/json-schema-check';
import { SCHEMAS } from '../helpers/json-schemas';
import { trackGpuBuffers } from '../helpers/gpu-buffers';

export const apiTest = {
  chatModel: () => tinyChatModel(CHATML, ['<|im_end|>', '<|im_start|>'], { extraChars: '{}[]":,-.0123456789' }),
  tinyChatModel,
  chatChunkProblems,
  chatCompletionProblems,
  schemaProblems,
  SCHEMAS,
  trackGpuBuffers,
};

Object.assign(window, { hearth, apiTest, apiReady: true });
