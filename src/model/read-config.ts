// Model hyperparameters and features from GGUF metadata. `general.architecture` picks a reader
// (src/model/arch/) once, at load; it turns the `<arch>.*` keys into one ModelConfig (./config.ts).
import { FormatError, UnsupportedError } from '../errors';
import { getOptionalBoolean, getOptionalNumber, getOptionalString, getString } from './gguf-metadata';
import type { ModelFile } from './model-file';
import { ARCHITECTURES, SUPPORTED_ARCHITECTURES } from './arch';
import { POOLING_TYPES, type ModelConfig } from './config';
import { checkModelTensors } from './tensors';

export interface ReadConfigOptions {
  /** Check that every weight tensor exists with the expected shape (default true; false for vocab-only files). */
  requireTensors?: boolean;
}

export function readModelConfig(file: ModelFile, options: ReadConfigOptions = {}): ModelConfig {
  const where = file.source.name;
  const architecture = getString(file, 'general.architecture');
  const reader = Object.hasOwn(ARCHITECTURES, architecture) ? ARCHITECTURES[architecture] : undefined;
  if (!reader) {
    throw new UnsupportedError(`${where}: architecture '${architecture}' is not supported yet; supported: ${SUPPORTED_ARCHITECTURES.join(', ')}`);
  }
  const config = reader(file, { architecture, name: getOptionalString(file, 'general.name') ?? where });
  const causal = getOptionalBoolean(file, `${architecture}.attention.causal`);
  if (causal !== undefined) config.causal ??= causal;
  const pooling = getOptionalNumber(file, `${architecture}.pooling_type`);
  if (pooling !== undefined && pooling >= 0) {
    const type = POOLING_TYPES[pooling];
    if (!type) throw new FormatError(`${where}: ${architecture}.pooling_type ${pooling} is not one llama.cpp knows (0–${POOLING_TYPES.length - 1})`);
    config.pooling ??= type;
  }
  if (config.headDim % 4 !== 0) {
    // attention.wgsl reads heads as vec4s; every published model's head size is a multiple of 4.
    throw new UnsupportedError(`${where}: head size ${config.headDim} is not a multiple of 4, which the attention kernel needs`);
  }
  if (options.requireTensors !== false) checkModelTensors(file, config);
  if (config.slidingWindow && config.slidingWindow.layers.length !== config.blockCount) {
    throw new FormatError(`${where}: the sliding-window pattern covers ${config.slidingWindow.layers.length} layers, the model has ${config.blockCount}`);
  }
  return config;
}
