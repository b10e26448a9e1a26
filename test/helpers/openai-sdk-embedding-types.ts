// Compile-time checks of the embeddings shapes against the `openai` package's (nothing here runs): Hearth's
// CreateEmbeddingResponse and the SDK's are assignable both ways, and the SDK's request parameters are
// accepted by engine.embeddings.create.
import type { CreateEmbeddingResponse as SdkCreateEmbeddingResponse, EmbeddingCreateParams as SdkEmbeddingCreateParams } from 'openai/resources/embeddings';
import type { CreateEmbeddingResponse, EmbeddingCreateParams, Engine } from '../../src/index';

type Assignable<From, To> = [From] extends [To] ? true : false;
type NoneLeft<T> = [T] extends [never] ? true : { uncovered: T };
const checks: [
  Assignable<CreateEmbeddingResponse, SdkCreateEmbeddingResponse>,
  Assignable<SdkCreateEmbeddingResponse, CreateEmbeddingResponse>,
  Assignable<SdkEmbeddingCreateParams, EmbeddingCreateParams>,
  // Every parameter the SDK can send is one Hearth knows.
  NoneLeft<Exclude<keyof SdkEmbeddingCreateParams, keyof EmbeddingCreateParams>>,
] = [true, true, true, true];
void checks;

/** Code written against the SDK's parameter type compiles against the engine, and gets the SDK's response type. */
export async function sdkEmbeddingParamsAccepted(engine: Engine, params: SdkEmbeddingCreateParams): Promise<SdkCreateEmbeddingResponse> {
  if (params.encoding_format === 'base64') {
    const b64 = await engine.embeddings.create({ ...params, encoding_format: 'base64' });
    return { ...b64, data: b64.data.map((d) => ({ ...d, embedding: [] })) };
  }
  return engine.embeddings.create({ ...params, encoding_format: 'float' });
}
