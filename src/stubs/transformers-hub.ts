// Stands in for @xenova/transformers' hub client (src/utils/hub.js) in the browser bundles: its tokenizer module
// imports it for AutoTokenizer.from_pretrained alone, which Hearth never calls — it builds tokenizers from the
// files it fetches and caches itself (src/io). Keeps the client (fetch, caches, Node fs paths) out of the worker.
export function getModelJSON(): never {
  throw new Error("@xenova/transformers' hub client is not bundled: Hearth loads tokenizer files itself");
}
