import { HttpException } from '@nestjs/common';
import { parseArgs } from 'node:util';
import { OPTIONS, UsageError } from './cli/arguments';
import { COMMANDS, usage } from './cli/commands';
import { ConfigError, loadConfig } from './config/configuration';

/** Runs one command (see COMMANDS); what it returns is printed on stdout. */
async function main(argv: string[]): Promise<string> {
  const { values: options, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: OPTIONS,
  });
  const [name, ...args] = positionals;
  // Help needs no configuration: it works in a checkout with a broken .env too.
  if (options.help || name === 'help') return usage();
  if (name === undefined) throw new UsageError('no command given');
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  return command.run({ args, options, config: loadConfig() });
}

main(process.argv.slice(2)).then(
  (output) => {
    process.stdout.write(`${output}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    // parseArgs reports an unknown option or a missing value with an ERR_PARSE_ARGS_* code.
    const parseError = (error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || parseError) {
      process.stderr.write(`${(error as Error).message}\n${usage()}\n`);
      process.exit(2);
    }
    const message =
      error instanceof HttpException || error instanceof ConfigError || error instanceof Error
        ? error.message
        : String(error);
    process.stderr.write(`error: ${message}\n`);
    process.exit(1);
  },
);
