import { CommandInput } from './arguments';

export interface Command {
  /** Its arguments and options, as the usage shows them. */
  synopsis: string;
  /** What it does and prints, a line or more for the usage. */
  summary: string[];
  /**
   * Runs it and returns what goes to stdout. Each command loads its code when run, so a
   * command pulls in only the modules it needs and starts fast.
   */
  run(input: CommandInput): Promise<string>;
}

/** Every command, in the order the usage lists them. A new command is one more entry. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  'user:create': {
    synopsis: '<username> [--staff]',
    summary: ['create an active user'],
    run: async (input) => (await import('./user.commands.js')).createUser(input),
  },
  token: {
    synopsis: '<username> [--ttl <seconds>]',
    summary: ['print a signed JWT for that user (default ttl 3600)'],
    run: async (input) => (await import('./user.commands.js')).token(input),
  },
  notify: {
    synopsis: '<username> <mensaje...> [--tipo T] [--url U]',
    summary: [
      'store a notification; a service running on the same database',
      'pushes it to open tabs (stderr says so when none runs)',
    ],
    run: async (input) => (await import('./notification.commands.js')).notify(input),
  },
  purge: {
    synopsis: '[--days N]',
    summary: [
      'delete notifications older than N days, N >= 1 (default',
      'RETENTION_DAYS; when that is 0, purging is off), and',
      'Idempotency-Keys past 24 hours',
    ],
    run: async (input) => (await import('./notification.commands.js')).purge(input),
  },
  migrate: {
    synopsis: '',
    summary: ['apply pending migrations'],
    run: async (input) => (await import('./migrate.command.js')).migrate(input),
  },
  'import:django': {
    synopsis: '<dumpdata.json>',
    summary: [
      "users and notifications from the Django app's dumpdata,",
      'ids kept; re-running changes nothing',
    ],
    run: async (input) => (await import('./import.command.js')).importDjango(input),
  },
  seed: {
    synopsis: '[--users 50] [--notifications 5000] [--days 14]',
    summary: ['demo users (demo-gerente is staff) and realistic notifications'],
    run: async (input) => (await import('./notification.commands.js')).seed(input),
  },
  help: {
    synopsis: '',
    summary: ['print this (also --help or -h)'],
    run: () => Promise.resolve(usage()),
  },
};

const SUMMARY_COLUMN = 37;

/** The usage, built from COMMANDS. */
export function usage(): string {
  const lines = ['usage: npm run -s cli -- <command>'];
  for (const [name, { synopsis, summary }] of Object.entries(COMMANDS)) {
    const head = `  ${name} ${synopsis}`.trimEnd();
    const [first, ...rest] = summary;
    if (head.length < SUMMARY_COLUMN) lines.push(head.padEnd(SUMMARY_COLUMN) + first);
    else lines.push(head, ' '.repeat(SUMMARY_COLUMN) + first);
    for (const line of rest) lines.push(' '.repeat(SUMMARY_COLUMN) + line);
  }
  return lines.join('\n');
}
