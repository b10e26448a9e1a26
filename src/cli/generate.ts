// `hearth generate`: continue a prompt and print the continuation as it streams.
import { createEngine } from '../engine/engine';
import { numberOption, parseCommand } from './args';

export async function generateCommand(args: string[]): Promise<number> {
  const { model, values } = parseCommand('generate', args, {
    prompt: { type: 'string', default: '' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    seed: { type: 'string' },
    'context-length': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const engine = await createEngine(model, { contextLength: numberOption('context-length', values['context-length']) });
  try {
    const stream = engine.generate(values.prompt!, {
      maxTokens: numberOption('max-tokens', values['max-tokens']),
      temperature: numberOption('temperature', values.temperature),
      topK: numberOption('top-k', values['top-k']),
      topP: numberOption('top-p', values['top-p']),
      seed: numberOption('seed', values.seed),
    });
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
