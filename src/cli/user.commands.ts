import { TokenVerifier } from '../auth/token-verifier';
import { usernameProblem } from '../users/dto/put-user.dto';
import { UsersService } from '../users/users.service';
import { CommandInput, UsageError, wholeNumber } from './arguments';
import { CliUsersModule } from './cli-users.module';
import { withContext } from './context';

export function createUser({ args, options, config }: CommandInput): Promise<string> {
  if (args.length !== 1) throw new UsageError('user:create takes one username');
  const problem = usernameProblem(args[0]);
  if (problem !== undefined) throw new UsageError(problem);
  return withContext(CliUsersModule.register(config), async (app) => {
    const user = await app.get(UsersService).create(args[0], options.staff ?? false);
    return JSON.stringify({ id: user.id, username: user.username, is_staff: user.isStaff });
  });
}

export function token({ args, options, config }: CommandInput): Promise<string> {
  if (args.length !== 1) throw new UsageError('token takes one username');
  const ttl = wholeNumber('ttl', options.ttl, 3600);
  if (ttl < 1) throw new UsageError('--ttl must be at least 1 second');
  return withContext(CliUsersModule.register(config), async (app) => {
    const user = await app.get(UsersService).getByUsername(args[0]);
    return app.get(TokenVerifier).sign(user.id, ttl);
  });
}
