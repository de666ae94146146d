import { DataSource } from 'typeorm';
import { importDjangoDump } from '../import/django-import';
import { CommandInput, UsageError } from './arguments';
import { CliUsersModule } from './cli-users.module';
import { withContext } from './context';
import { progressBar } from './progress-bar';

/** `import:django <dumpdata.json>`: users and notifications from the Django app, ids kept. */
export function importDjango({ args, config }: CommandInput): Promise<string> {
  if (args.length !== 1) throw new UsageError('import:django takes one dumpdata file');
  return withContext(CliUsersModule.register(config), async (app) =>
    JSON.stringify(
      await importDjangoDump(app.get(DataSource), args[0], progressBar(process.stderr, 'import')),
    ),
  );
}
