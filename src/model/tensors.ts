// The tensors a ModelConfig's forward pass reads (described in layer.ts), with their ggml-order shapes, and the
// check that a file has every one of them.
import { FormatError } from '../errors';
import type { ModelFile, ModelTensorInfo } from './model-file';
import type { ModelConfig } from './config';
import { layerTensors, layerTensorShape, MODEL_TENSORS } from './layer';
import { weightDTypeForGGML } from '../gpu/quant-types';
import { q8WeightTypes } from '../gpu/shaders';

/** Every tensor the forward pass reads (layer.ts describes them), with its ggml-order shape [ne0 (row length), ne1]. */
export function modelTensorShapes(c: ModelConfig): Map<string, number[]> {
  const biases = new Set<string>(c.biases);
  const shapes = new Map<string, number[]>();
  for (const t of MODEL_TENSORS) if (t.needs(c)) shapes.set(t.name, t.shape(c));
  for (const rope of [c.rope, c.slidingWindow?.rope]) {
    if (rope?.freqFactors) shapes.set(rope.freqFactors, [rope.dim / 2]);
  }
  const tensors = layerTensors(c);
  for (let l = 0; l < c.blockCount; l++) {
    for (const t of tensors) {
      const shape = layerTensorShape(t, c);
      shapes.set(`blk.${l}.${t.name}.weight`, shape);
      if (biases.has(t.name)) shapes.set(`blk.${l}.${t.name}.bias`, [shape[1] ?? shape[0]!]);
    }
  }
  return shapes;
}

function sameShape(t: ModelTensorInfo, expected: number[]): boolean {
  // Trailing 1-dims are insignificant in ggml.
  const trim = (d: number[]) => { const a = [...d]; while (a.length > 1 && a[a.length - 1] === 1) a.pop(); return a; };
  const a = trim(t.dims), b = trim(expected);
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkModelTensors(file: ModelFile, config: ModelConfig): void {
  for (const [name, shape] of modelTensorShapes(config)) {
    const t = file.tensorsByName.get(name);
    if (!t) throw new FormatError(`${file.source.name}: required tensor '${name}' is missing (incomplete or vocab-only file?)`);
    if (!sameShape(t, shape)) {
      throw new FormatError(`${file.source.name}: tensor '${name}' has shape [${t.dims.join(', ')}], expected [${shape.join(', ')}] from the metadata`);
    }
  }
}

/**
 * Whether any weight matrix the model multiplies is q4_0 or q8_0: the products precision 'q8' runs as integer
 * dot products, so 'auto' picks it on CPU adapters for such models.
 */
export function modelHasQ8Matrices(file: ModelFile, config: ModelConfig): boolean {
  return [...modelTensorShapes(config)].some(([name, dims]) => {
    const type = dims.length > 1 ? file.tensorsByName.get(name)?.type : undefined;
    const dtype = type === undefined ? undefined : weightDTypeForGGML(type);
    return dtype !== undefined && q8WeightTypes.has(dtype);
  });
}
