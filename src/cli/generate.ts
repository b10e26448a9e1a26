// `hearth generate`: continue a prompt and print the continuation as it streams.
import { createEngine } from '../engine/page/engine';
import { GENERATION_OPTIONS, generationOptions, loadOptions, parseCommand, terminalProgress } from './args';

export async function generateCommand(args: string[]): Promise<number> {
  const { model, values, fetch } = parseCommand('generate', args, {
    prompt: { type: 'string', default: '' },
    ...GENERATION_OPTIONS,
    json: { type: 'boolean', default: false },
  });
  const engine = await createEngine(model, { ...loadOptions(values), ...fetch, onProgress: terminalProgress() });
  try {
    const stream = engine.generate(values.prompt!, generationOptions(values));
    const stop = () => stream.cancel();
    process.once('SIGINT', stop);
    for await (const chunk of stream) {
      if (!values.json) process.stdout.write(chunk.text);
    }
    const r = await stream.result;
    process.off('SIGINT', stop);
    if (values.json) {
      const { text, tokens, promptTokens, prefillTokensPerSecond, decodeTokensPerSecond } = r;
      process.stdout.write(`${JSON.stringify({ text, tokens, promptTokens, prefillTokensPerSecond, decodeTokensPerSecond })}\n`);
    } else {
      process.stdout.write('\n');
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}
