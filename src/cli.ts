// hearth CLI: the same engine as the browser, on Node's WebGPU (Dawn). Commands live in src/cli/.
//   generate  continue a prompt            chat      talk to a model in the terminal
//   tokenize  token ids of a text (no GPU) inspect   what a GGUF holds and the GPU memory it needs (no GPU)
import { chatCommand } from './cli/chat';
import { usage, UsageError } from './cli/args';
import { generateCommand } from './cli/generate';
import { inspectCommand } from './cli/inspect';
import { tokenizeCommand } from './cli/tokenize';
import { HearthError, isAbortError } from './errors';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  generate: generateCommand,
  chat: chatCommand,
  tokenize: tokenizeCommand,
  inspect: inspectCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) throw new UsageError(usage());
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${usage()}\n`);
      return 0;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`unknown command '${command}'\n${usage()}`);
    return await run(rest);
  } catch (e) {
    if (isAbortError(e)) return 130;
    const unparsable = e instanceof Error && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const what = e instanceof HearthError ? `${e.name}: ${e.message}`
      : e instanceof UsageError || unparsable ? withUsage((e as Error).message, command)
      : String(e instanceof Error ? e.stack ?? e : e);
    process.stderr.write(`hearth: ${what}\n`);
    return e instanceof HearthError ? 1 : e instanceof UsageError || unparsable ? 2 : 70;
  }
}

function withUsage(message: string, command: string | undefined): string {
  return message.includes('usage: ') ? message : `${message}\n${usage(command)}`;
}

// Dawn keeps the process alive while a GPU object exists: exit explicitly once stdout is flushed.
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.exit(code));
