// hearth CLI: the same engine as the browser, on Node's WebGPU (Dawn).
//   generate --model <path|url> --prompt <text> --max-tokens <n> [--temperature t] [--top-k k] [--top-p p] [--seed s] [--context-length n] [--json]
import { parseArgs } from 'node:util';
import { createEngine } from './engine/engine';
import { HearthError, InvalidRequestError, isAbortError } from './errors';

const USAGE = `usage: hearth generate --model <path|url> [--prompt <text>] [--max-tokens <n>] [--temperature <t>] [--top-k <k>] [--top-p <p>] [--seed <s>] [--context-length <n>] [--json]`;

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidRequestError(`--${name} must be a number, got '${value}'`);
  return n;
}

async function generate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      prompt: { type: 'string', default: '' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      'context-length': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.model) throw new InvalidRequestError(`--model is required\n${USAGE}`);

  const engine = await createEngine(values.model, { contextLength: numberOption('context-length', values['context-length']) });
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
  } finally {
    await engine.dispose();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'generate') await generate(rest);
    else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    } else throw new InvalidRequestError(`unknown command '${command}'\n${USAGE}`);
    return 0;
  } catch (e) {
    if (isAbortError(e)) return 130;
    const what = e instanceof HearthError ? `${e.name}: ${e.message}` : e instanceof Error && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? `${e.message}\n${USAGE}` : String(e instanceof Error ? e.stack ?? e : e);
    process.stderr.write(`hearth: ${what}\n`);
    return e instanceof HearthError ? 1 : 70;
  }
}

// Dawn keeps the process alive while a GPU object exists: exit explicitly once stdout is flushed.
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
