import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import request from 'supertest';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';

/** The README's code block of this language in its "Tokens" section, as written there. */
function example(language: 'js' | 'python'): string {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = /\n## Tokens\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section)?.[1];
  if (block === undefined) throw new Error(`README "Tokens" has no ${language} example`);
  return block;
}

/** A Python 3 that has PyJWT (Debian: python3-jwt), or undefined. */
function pythonWithPyJwt(): string | undefined {
  return ['python3', '/usr/bin/python3'].find(
    (python) => spawnSync(python, ['-c', 'import jwt'], { stdio: 'ignore' }).status === 0,
  );
}

// What Django's settings and a user would give the example; django itself is not needed.
const DJANGO_STAND_IN = `
import sys, types
conf = types.ModuleType("django.conf")
conf.settings = types.SimpleNamespace(NOTIFICACIONES_JWT_SECRET=sys.argv[1])
sys.modules["django"] = types.ModuleType("django")
sys.modules["django.conf"] = conf
`;

describe('the token examples in README "Tokens"', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  const list = (token: string) =>
    request(app.url).get('/notifications/api/list/').set('Authorization', `Bearer ${token}`);

  it('Node (jsonwebtoken): the service accepts the token, for that user', async () => {
    const [ana, bea] = await Promise.all([createUser(app), createUser(app)]);
    const mint = (userId: number) =>
      runInNewContext(`${example('js')}\nnotificacionesToken(userId);`, {
        require,
        process: { env: { JWT_SECRET: process.env.JWT_SECRET } },
        userId,
      }) as string;
    await list(mint(ana.id)).expect(200);
    await list(mint(bea.id)).expect(200);
    // The example's sub is what picks the user: a user that does not exist is refused.
    await list(mint(2_000_000_000)).expect(401);
  });

  const python = pythonWithPyJwt();
  if (!python) {
    process.stderr.write(
      'token docs: no python3 with PyJWT (apt-get install python3-jwt); the Django example is not run\n',
    );
  }
  (python ? it : it.skip)('Django (PyJWT): the service accepts the token', async () => {
    const user = await createUser(app);
    const script = `${DJANGO_STAND_IN}\n${example('python')}\nprint(notificaciones_token(types.SimpleNamespace(pk=int(sys.argv[2]))))`;
    const token = execFileSync(python!, ['-c', script, process.env.JWT_SECRET!, String(user.id)], {
      encoding: 'utf8',
    }).trim();
    await list(token).expect(200);
  });
});
