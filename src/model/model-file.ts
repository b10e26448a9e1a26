// What the architecture readers, the tensor check and the weight upload need from a model file, whatever
// its format: GGUF metadata keys and ggml tensor names, types and shapes, and a way to read a tensor's bytes.
// A GGUF file is one as it stands; a Hugging Face safetensors repo is translated into one (src/model/hf/),
// the way llama.cpp's convert_hf_to_gguf.py would write it, so both share everything after this point.
import type { GGUFValue } from './gguf';

export interface ModelTensorInfo {
  /** ggml name ('blk.0.attn_q.weight'). */
  name: string;
  /** ggml order: dims[0] = ne0, the contiguous (fastest-varying) dim. */
  dims: number[];
  /** ggml type id, see GGMLType. */
  type: number;
  /** Bytes of the tensor in `type`. */
  byteLength: number;
}

export interface ModelFile {
  /** GGUF metadata keys ('general.architecture', '<arch>.embedding_length', ...). */
  metadata: Map<string, GGUFValue>;
  tensors: ModelTensorInfo[];
  tensorsByName: Map<string, ModelTensorInfo>;
  /** Names the model in messages (file path, URL or repo). */
  source: { readonly name: string };
  /** The tensor's bytes in its ggml type and layout (exactly `byteLength` of them). */
  readTensor(tensor: ModelTensorInfo): Promise<Uint8Array>;
  /**
   * Where the tensor's bytes are stored as they are (a GGUF file), a reader of any byte range of them, so a large
   * tensor can stream to the GPU in pieces; undefined when the bytes are computed (converted or quantized at load).
   */
  tensorReader?(tensor: ModelTensorInfo): ((offset: number, length: number) => Promise<Uint8Array>) | undefined;
}
