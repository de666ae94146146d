import { ParseArgsConfig } from 'node:util';
import { AppConfig } from '../config/configuration';

/** Wrong use of the command line: answered with the usage and exit code 2. */
export class UsageError extends Error {}

/** Every option of every command (`parseArgs` rejects any other). */
export const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  staff: { type: 'boolean' },
  ttl: { type: 'string' },
  days: { type: 'string' },
  users: { type: 'string' },
  notifications: { type: 'string' },
  tipo: { type: 'string' },
  url: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export type Options = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** What a command is run with: its positional arguments, the options and the configuration. */
export interface CommandInput {
  args: string[];
  options: Options;
  config: AppConfig;
}

export function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
  return Number(value);
}
