// The public API for the test pages of the WebGPU path: createEngine, pipeline and checkModel default to backend 'webgpu'.
// This Chromium's WebGPU is SwiftShader, a software adapter, where 'auto' takes llama.cpp's WebAssembly build;
// tests of that backend pass backend: 'auto' or 'wasm' (test/wasm-chromium.test.ts).
import * as api from '../../src/index';

export const hearth: typeof api = {
  ...api,
  createEngine: (model, options = {}) => api.createEngine(model, { backend: 'webgpu', ...options }),
  pipeline: ((task: Parameters<typeof api.pipeline>[0], model: Parameters<typeof api.pipeline>[1], options: Parameters<typeof api.pipeline>[2] = {}) =>
    api.pipeline(task, model, { backend: 'webgpu', ...options })) as typeof api.pipeline,
  checkModel: (model, options = {}) => api.checkModel(model, { backend: 'webgpu', ...options }),
};
