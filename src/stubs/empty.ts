// Stands in for onnxruntime-web / onnxruntime-node: @xenova/transformers' tokenizer module imports
// them through its env module but never runs them. Aliasing them here keeps ~130 KB gzip out of the bundle.
export default {};
export const env = {};
export const InferenceSession = undefined;
export const Tensor = undefined;
