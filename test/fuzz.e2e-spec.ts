import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { ClientSocket, connectSocket } from './support/socket-client';
import { signToken } from './support/tokens';

// Property-based tests: random bodies, queries, headers and socket payloads at every door.
// Whatever comes in: never a 5xx, never a crash, never another user's data. Run counts are
// bounded so the file stays within a few seconds; a failure prints its seed and counterexample.

const ROUTES: Array<[string, string]> = [
  ['GET', '/notifications/api/list/'],
  ['GET', '/notifications/api/list'],
  ['POST', '/notifications/api/mark-read/'],
  ['POST', '/notifications/api/mark-read'],
  ['POST', '/notifications/api/send/'],
  ['GET', '/notifications/api/send/'],
  ['PUT', '/notifications/api/mark-read/'],
  ['DELETE', '/notifications/api/list/'],
  ['GET', '/health'],
  ['GET', '/docs-json'],
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
];

const printable = (max: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${max}}$`));

/** Values that parsers and validators trip over. */
const awkward = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constantFrom(
    '',
    '0',
    '-1',
    '1e309',
    'NaN',
    'true',
    'null',
    '[]',
    '{}',
    '9007199254740993',
    '2147483648',
    '\u0000',
    '%00',
    '__proto__',
  ),
  fc.constant(null),
  fc.boolean(),
);

const body = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record({ ids: fc.oneof(fc.array(awkward, { maxLength: 20 }), awkward) }, { requiredKeys: [] })
    .map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        usuarios: fc.oneof(fc.array(awkward, { maxLength: 20 }), awkward),
        mensaje: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 50 }), awkward),
        staff: awkward,
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  // Malformed JSON, and anything at all.
  fc.string(),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
);

const query = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('limit', 'cursor', 'unread', 'ids', 'usuarios', 'since'),
        fc.string(),
      ),
      awkward.map(String),
    ),
    { maxLength: 5 },
  )
  .map((pairs) =>
    pairs
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join('&'),
  );

const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'x-request-id',
    'x-forwarded-for',
    'origin',
    'accept',
    'accept-encoding',
    'content-encoding',
    'cookie',
    'if-none-match',
    'range',
  ),
  printable(60),
  { maxKeys: 3 },
);

/**
 * Any JSON value, sometimes wrapped in arrays or objects: up to the 32-level limit and past it,
 * as far as the 1,400 levels that overflowed the stack of class-transformer.
 */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc
    .tuple(
      fc.jsonValue({ maxDepth: 1 }),
      fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1000, max: 2000 })),
      fc.boolean(),
    )
    .map(([value, levels, inObjects]) => {
      let wrapped: unknown = value;
      for (let level = 0; level < levels; level += 1) {
        wrapped = inObjects ? { k: wrapped } : [wrapped];
      }
      return wrapped;
    }),
);

/** A body object: each field valid, absent, null or any JSON, sometimes with a key too many. */
function bodyOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const record = Object.fromEntries(
    Object.entries(fields).map(([key, valid]) => [
      key,
      fc.oneof(valid, fc.constant(null), anyJson),
    ]),
  );
  return fc
    .tuple(
      fc.record(record, { requiredKeys: [] }),
      fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'constructor', 'ids'), anyJson)),
    )
    .map(([body, extra]) => {
      if (extra) Object.defineProperty(body, extra[0], { value: extra[1], enumerable: true });
      return JSON.stringify(body);
    });
}

describe('property-based: random input at every door', () => {
  let app: TestApp;
  let attacker: User;
  let staff: User;
  let victim: User;
  /** In every notification of the victim: it must never show up in anyone else's answer. */
  const secret = `victim-secret-${randomUUID()}`;
  let victimIds: number[];
  let authorizations: fc.Arbitrary<string | undefined>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    app = await startApp();
    [attacker, staff, victim] = await Promise.all([
      createUser(app),
      createUser(app, { staff: true }),
      createUser(app),
    ]);
    const rows = await app.dataSource.query<Array<{ id: string }>>(
      `INSERT INTO notificaciones (usuario_id, mensaje)
       SELECT $1, $2 || ' ' || g FROM generate_series(1, 5) AS g RETURNING id`,
      [victim.id, secret],
    );
    victimIds = rows.map((row) => Number(row.id));
    const token = signToken(attacker);
    // Mostly valid tokens, so that most requests get past authentication to the validation.
    authorizations = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(`Bearer ${token}`, `Bearer ${signToken(staff)}`) },
      { weight: 1, arbitrary: fc.constant(undefined) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          `Bearer ${signToken(victim, { secret: 'forged' })}`,
          `Bearer ${signToken(victim, { algorithm: 'none' as never, secret: '' })}`,
          `Bearer ${signToken(attacker, { expiresIn: -1 })}`,
          `bearer   ${token}  `,
          token,
          `Basic ${Buffer.from('a:b').toString('base64')}`,
        ),
      },
      { weight: 1, arbitrary: printable(80).map((text) => `Bearer ${text}`) },
      { weight: 1, arbitrary: printable(80) },
    );
  });

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await app?.close();
  });

  async function victimUntouched(): Promise<void> {
    const rows = await app.dataSource.query<Array<{ id: string; leida: boolean }>>(
      'SELECT id, leida FROM notificaciones WHERE id = ANY($1::bigint[]) ORDER BY id',
      [victimIds],
    );
    expect(rows).toEqual(victimIds.map((id) => ({ id: String(id), leida: false })));
  }

  it('HTTP: never a 5xx, always Nest-shaped errors, never the victim’s data', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...ROUTES) },
          { weight: 1, arbitrary: fc.webPath().map((path): [string, string] => ['GET', path]) },
        ),
        query,
        fc.oneof(
          body,
          // Well-formed requests naming real ids: the victim's among them.
          fc
            .record({
              ids: fc.subarray([...victimIds, 1, 2, 3]),
              usuarios: fc.subarray([attacker.id, staff.id, victim.id, 2_000_000_000]),
              mensaje: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
            })
            .chain((all) =>
              fc.constantFrom(
                JSON.stringify({ ids: all.ids }),
                JSON.stringify({ usuarios: all.usuarios, mensaje: all.mensaje }),
              ),
            ),
        ),
        fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/json') },
          { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        ),
        authorizations,
        extraHeaders,
        async ([method, path], search, payload, contentType, authorization, headers) => {
          let call = request(app.url)[method.toLowerCase() as 'get'](
            search ? `${path || '/'}?${search}` : path || '/',
          );
          for (const [name, value] of Object.entries(headers)) call = call.set(name, value);
          if (authorization !== undefined) call = call.set('Authorization', authorization);
          if (method !== 'GET' && method !== 'DELETE') {
            call = call.set('Content-Type', contentType).send(payload);
          }
          const response = await call;
          expect(response.status).toBeLessThan(500);
          expect(response.text ?? '').not.toContain(secret);
          if (response.status >= 400 && response.type === 'application/json') {
            expect(response.body).toMatchObject({
              statusCode: response.status,
              error: expect.any(String),
            });
          }
        },
      ),
      { numRuns: 300 },
    );
    await request(app.url).get('/health').expect(200);
    await victimUntouched();
  }, 60000);

  it('send, list and mark-read: any JSON in any field is 400 or success, and only then has effects', async () => {
    const attackerToken = signToken(attacker);
    const staffToken = signToken(staff);
    const attackerIds = await app.dataSource.query<Array<{ id: string }>>(
      `INSERT INTO notificaciones (usuario_id, mensaje)
       SELECT $1, 'mía ' || g FROM generate_series(1, 5) AS g RETURNING id`,
      [attacker.id],
    );
    const ownIds = attackerIds.map((row) => Number(row.id));
    // The victim is never named here and is not staff: nothing may reach them.
    const victimCount = async () =>
      Number(
        (
          await app.dataSource.query<Array<{ count: string }>>(
            'SELECT count(*) AS count FROM notificaciones WHERE usuario_id = $1',
            [victim.id],
          )
        )[0].count,
      );
    const victimBefore = await victimCount();
    const total = async () =>
      Number(
        (
          await app.dataSource.query<Array<{ count: string }>>(
            'SELECT count(*) AS count FROM notificaciones',
          )
        )[0].count,
      );
    const send = bodyOf({
      usuarios: fc.subarray([attacker.id, staff.id], { minLength: 1 }),
      staff: fc.constant(true),
      mensaje: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    }).map((body) => ({ route: 'send' as const, body }));
    const markRead = bodyOf({ ids: fc.subarray([...victimIds, ...ownIds]) }).map((body) => ({
      route: 'mark-read' as const,
      body,
    }));
    const list = fc
      .array(
        fc.tuple(
          fc.constantFrom('limit', 'cursor', 'unread', 'tipo', 'other'),
          // JSON as text (a query cannot nest), kept short: URLs over 16 KiB are refused before
          // any route sees them.
          fc.oneof(
            awkward.map(String),
            fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
          ),
        ),
        { maxLength: 4 },
      )
      .map((pairs) => ({
        route: 'list' as const,
        body: pairs
          .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
          .join('&'),
      }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(send, markRead, list), async ({ route, body }) => {
        const before = await total();
        const response =
          route === 'list'
            ? await request(app.url)
                .get(`/notifications/api/list/?${body}`)
                .set('Authorization', `Bearer ${attackerToken}`)
            : await request(app.url)
                .post(`/notifications/api/${route}/`)
                .set('Authorization', `Bearer ${route === 'send' ? staffToken : attackerToken}`)
                .set('Content-Type', 'application/json')
                .send(body);
        const success = route === 'send' ? 201 : 200;
        // The request in the failure message, with what it got.
        expect({ route, body, status: response.status }).toEqual({
          route,
          body,
          status: [success, 400].includes(response.status) ? response.status : `${success} or 400`,
        });
        if (route === 'send' && response.status === 201) {
          // Only one audience, and `staff` exactly true: `null` is never taken for "absent".
          const sent = JSON.parse(body) as Record<string, unknown>;
          expect({ body, audiences: Number('usuarios' in sent) + Number('staff' in sent) }).toEqual(
            { body, audiences: 1 },
          );
          expect({
            body,
            staff: 'staff' in sent ? sent.staff : true,
            usuarios: 'usuarios' in sent ? Array.isArray(sent.usuarios) : true,
          }).toEqual({ body, staff: true, usuarios: true });
        }
        expect(response.text).not.toContain(secret);
        const created =
          response.status === 201 ? (response.body as { created: number }).created : 0;
        expect(await total()).toBe(before + created);
      }),
      { numRuns: 300 },
    );
    await victimUntouched();
    expect(await victimCount()).toBe(victimBefore);
  }, 120000);

  it('Socket.IO mark_read: any JSON in any field is an ack, never an exception event', async () => {
    const socket = await connectSocket(app.url, { token: signToken(attacker) });
    sockets.push(socket);
    const events: string[] = [];
    socket.onAny((event: string) => events.push(event));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          bodyOf({ ids: fc.subarray(victimIds) }).map((body): unknown => JSON.parse(body)),
          anyJson,
        ),
        async (payload) => {
          const ack = (await socket.timeout(5000).emitWithAck('mark_read', payload as never)) as
            { error: string } | { updated: number; unread_count: number };
          if ('error' in ack) expect(ack.error).toEqual(expect.any(String));
          else
            expect(ack).toEqual({ updated: expect.any(Number), unread_count: expect.any(Number) });
          expect(socket.connected).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
    expect(events.filter((event) => event === 'exception')).toEqual([]);
    await victimUntouched();
  }, 60000);

  it('Socket.IO handshake: connects or is refused, never hangs, never joins another user', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.object({ maxDepth: 2 }),
          fc.record(
            {
              token: fc.oneof(
                authorizations.map((header) => header?.replace(/^Bearer /, '')),
                awkward,
              ),
              since: fc.oneof(awkward, fc.nat(), fc.constant(0)),
            },
            { requiredKeys: [] },
          ),
        ),
        async (auth) => {
          let socket: ClientSocket | undefined;
          try {
            socket = await connectSocket(app.url, auth);
          } catch (error) {
            expect((error as Error).message).toMatch(/unauthorized|since|too many|unavailable/);
            return;
          }
          const received: string[] = [];
          socket.onAny((_event: string, payload: unknown) =>
            received.push(JSON.stringify(payload)),
          );
          // The handshake's own sync arrives before the reply to an event sent after connect.
          await socket.timeout(5000).emitWithAck('mark_read', { ids: [victimIds[0]] });
          socket.close();
          expect(received.join('\n')).not.toContain(secret);
        },
      ),
      { numRuns: 60 },
    );
    await victimUntouched();
  }, 60000);

  it('Socket.IO events: answered or ignored, never a crash or a dropped socket', async () => {
    const socket = await connectSocket(app.url, { token: signToken(attacker) });
    sockets.push(socket);
    const seen: string[] = [];
    socket.onAny((event: string, payload: unknown) =>
      seen.push(`${event} ${JSON.stringify(payload)}`),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant('mark_read'), fc.string({ maxLength: 20 })),
        fc.oneof(
          fc.anything({ maxDepth: 3 }),
          fc.record({ ids: fc.oneof(fc.array(awkward, { maxLength: 20 }), awkward) }),
          fc.constant({ ids: victimIds }),
        ),
        async (event, payload) => {
          if (event === 'mark_read') {
            const ack = await socket.timeout(5000).emitWithAck('mark_read', payload as never);
            if ('error' in ack) expect(ack.error).toEqual(expect.any(String));
            else
              expect(ack).toEqual({
                updated: expect.any(Number),
                unread_count: expect.any(Number),
              });
          } else {
            (socket as unknown as { emit(event: string, payload: unknown): void }).emit(
              event,
              payload,
            );
          }
          expect(socket.connected).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
    // Everything sent was handled before this answer; nothing raised an exception event.
    expect(await socket.timeout(5000).emitWithAck('mark_read', { ids: [] })).toEqual({
      updated: expect.any(Number),
      unread_count: 0,
    });
    expect(seen.filter((line) => line.startsWith('exception'))).toEqual([]);
    expect(seen.join('\n')).not.toContain(secret);
    await victimUntouched();
    await request(app.url).get('/health').expect(200);
  }, 60000);
});
