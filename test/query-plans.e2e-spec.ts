import request from 'supertest';
import { encodeCursor } from '../src/notifications/cursor';
import { COUNT_UNREAD_SQL, markReadSql } from '../src/notifications/inbox.repository';
import { PURGE_SQL } from '../src/notifications/notifications.repository';
import { User } from '../src/users/user.entity';
import { useApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import {
  allNodes,
  indexesRead,
  PlanNode,
  planOf,
  recordStatements,
  rowSources,
  scansWhole,
  secondaryIndexes,
  SentStatement,
} from './support/query-plans';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { waitFor } from './support/wait';

/** The contract's index, and the one catch-up reads. */
const CONTRACT_INDEX = 'notificaciones_usuario_leida_fecha_idx';
const CATCH_UP_INDEX = 'notificaciones_usuario_id_idx';

/**
 * Every index of `notificaciones` is paid on every mark-read (`leida` is indexed, so no update
 * is HOT): each must be one a hot statement reads, and each hot statement must read an index,
 * never the whole table, in the plan PostgreSQL makes for its values and in the generic plan a
 * prepared statement may switch to.
 */
describe('the plans of the hot statements, for a user with 20,000 notifications among others', () => {
  const app = useApp();
  const TOTAL = 20_000;
  const OTHERS = 400;
  let user: User;
  let ids: number[];
  let other: User;
  let otherIds: number[];
  /** Statements only the service knows the text of, as it sent them. */
  let catchUp: SentStatement;
  let leaderRead: SentStatement;

  beforeAll(async () => {
    user = await createUser(app);
    const others = await Promise.all(Array.from({ length: OTHERS }, () => createUser(app)));
    other = others[0];
    // The user's rows (k = 1..TOTAL) interleaved with as many of the others' (50 each, one in
    // ten unread), as real traffic would be. Groups of three of the user's share a fecha, so
    // ties on fecha are everywhere; every third is read; every fifth is a `pedido`.
    const rows = await app.dataSource.query<Array<{ id: string; usuario_id: number }>>(
      `INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha, tipo)
       SELECT CASE WHEN g % 2 = 1 THEN $1 ELSE ($2::int[])[1 + (g / 2) % ${OTHERS}] END,
              'n' || g,
              CASE WHEN g % 2 = 1 THEN k % 3 = 0 ELSE g % 20 <> 0 END,
              now() - ((${TOTAL} - k) / 3) * interval '1 second',
              CASE WHEN g % 2 = 1 AND k % 5 = 0 THEN 'pedido' ELSE 'general' END
       FROM generate_series(1, ${2 * TOTAL}) AS g, LATERAL (SELECT (g + 1) / 2 AS k) AS n
       ORDER BY g
       RETURNING id, usuario_id`,
      [user.id, others.map((one) => one.id)],
    );
    const idsOf = (id: number) =>
      rows
        .filter((row) => row.usuario_id === id)
        .map((row) => Number(row.id))
        .sort((a, b) => a - b);
    ids = idsOf(user.id);
    otherIds = idsOf(other.id);
    await app.dataSource.query('ANALYZE notificaciones');

    // Catch-up and the delivery leader's read, as the service sends them: one of the other
    // users reconnecting 40 rows back, and a mark-read the leader then recounts.
    const recorder = recordStatements();
    try {
      const socket = await openSocket(app.url, {
        token: signToken(other),
        since: otherIds[otherIds.length - 40],
      });
      await socket.waitFor('catch_up');
      const driver = await createUser(app);
      const [one] = await insertNotifications(app, driver, 1);
      await request(app.url)
        .post('/notifications/api/mark-read/')
        .set(bearer(signToken(driver)))
        .send({ ids: [one] })
        .expect(200);
      const named = (name: string) => recorder.sent().find((sent) => sent.name === name);
      catchUp = await waitFor('the catch-up statement', () => named('entregas.catch-up'));
      leaderRead = await waitFor('the delivery leader’s read', () => named('entregas.read'), {
        timeoutMs: 10_000,
      });
    } finally {
      recorder.stop();
      closeSockets();
    }
  }, 60_000);

  /** Both plans of a statement: for these values, and generic. */
  async function plansOf(text: string, values: unknown[]): Promise<PlanNode[]> {
    return [
      await planOf(app.dataSource, text, values),
      await planOf(app.dataSource, text, values, { generic: true }),
    ];
  }

  /** Follows next_cursor from the first page to the end; returns every id seen. */
  async function walk(query: Record<string, string>): Promise<number[]> {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const response = await request(app.url)
        .get('/notifications/api/list/')
        .query(cursor ? { ...query, cursor } : query)
        .set(bearer(signToken(user)))
        .expect(200);
      const body = response.body as {
        notifications: Array<{ id: number }>;
        next_cursor: string | null;
      };
      seen.push(...body.notifications.map((n) => n.id));
      cursor = body.next_cursor;
    } while (cursor);
    return seen;
  }

  /** The cursor that follows the row at `offset` in list order, as the service builds it. */
  async function cursorAt(offset: number, unread = false): Promise<string> {
    const [row] = await app.dataSource.query<Array<{ id: string; fecha: string }>>(
      `SELECT id, to_char(fecha AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS fecha
       FROM notificaciones WHERE usuario_id = $1 ${unread ? 'AND NOT leida' : ''}
       ORDER BY fecha DESC, id DESC OFFSET $2 LIMIT 1`,
      [user.id, offset],
    );
    return encodeCursor({ fecha: row.fecha, id: Number(row.id) });
  }

  /** The list statement the service runs for this request, as it sent it. */
  async function listStatementOf(query: Record<string, string>): Promise<SentStatement> {
    const recorder = recordStatements();
    try {
      await request(app.url)
        .get('/notifications/api/list/')
        .query(query)
        .set(bearer(signToken(user)))
        .expect(200);
      const listing = recorder
        .sent()
        .filter((sent) => sent.name?.startsWith('notificaciones.list'));
      expect(listing).toHaveLength(1);
      return listing[0];
    } finally {
      recorder.stop();
    }
  }

  /**
   * A page's plans read the contract's index only, never the whole table; a page of all rows
   * merges the index's unread and read ranges. Unless `sorts`, they sort at most within equal
   * fechas: no sort of the user's rows.
   */
  async function expectPageFromContractIndex(
    query: Record<string, string>,
    { sorts = false }: { sorts?: boolean } = {},
  ): Promise<void> {
    const { text, values } = await listStatementOf(query);
    for (const plan of await plansOf(text, values)) {
      const nodes = rowSources(plan);
      const types = nodes.map((node) => node['Node Type']);
      expect(indexesRead(nodes)).toEqual([CONTRACT_INDEX]);
      expect(scansWhole(nodes)).toBe(false);
      if (!sorts) expect(types).not.toContain('Sort');
      if (query.unread !== 'true') expect(types).toContain('Merge Append');
    }
  }

  it('pages through all of them with no skips or repeats', async () => {
    expect(await walk({ limit: '100' })).toEqual([...ids].reverse());
    const unread = ids.filter((_, i) => (i + 1) % 3 !== 0);
    expect(await walk({ limit: '100', unread: 'true' })).toEqual(unread.reverse());
    const pedidos = ids.filter((_, i) => (i + 1) % 5 === 0);
    expect(await walk({ limit: '100', tipo: 'pedido' })).toEqual([...pedidos].reverse());
    const unreadPedidos = pedidos.filter((id) => unread.includes(id));
    expect(await walk({ limit: '100', tipo: 'pedido', unread: 'true' })).toEqual(
      unreadPedidos.reverse(),
    );
  }, 60_000);

  it('serves first and deep pages, of all rows or unread ones, from the contract index', async () => {
    await expectPageFromContractIndex({ limit: '20' });
    await expectPageFromContractIndex({ limit: '100', cursor: await cursorAt(15_000) });
    await expectPageFromContractIndex({ unread: 'true' });
    await expectPageFromContractIndex({
      unread: 'true',
      limit: '100',
      cursor: await cursorAt(10_000, true),
    });
  });

  it('serves pages of one tipo from the same index, first and deep, all or unread', async () => {
    // No index of its own (each would cost every mark-read): the contract's index, filtered. A
    // kind this user has none of is left out on purpose: the page then walks all of the
    // user's rows (see README, "Kinds": the known limit of filtering without an index per kind).
    // For the same reason a deep page of a kind may sort: when few rows are left past the
    // cursor, PostgreSQL may read them all and keep the newest rather than walk and filter.
    for (const tipo of ['pedido', 'general']) {
      const deep = { sorts: true };
      await expectPageFromContractIndex({ tipo });
      await expectPageFromContractIndex(
        { tipo, limit: '100', cursor: await cursorAt(15_000) },
        deep,
      );
      await expectPageFromContractIndex({ tipo, unread: 'true' });
      await expectPageFromContractIndex(
        { tipo, unread: 'true', limit: '100', cursor: await cursorAt(10_000, true) },
        deep,
      );
    }
  });

  it('counts unread from the contract index', async () => {
    for (const plan of await plansOf(COUNT_UNREAD_SQL, [[user.id, other.id]])) {
      const nodes = allNodes(plan);
      expect(scansWhole(nodes)).toBe(false);
      expect(indexesRead(nodes)).toEqual([CONTRACT_INDEX]);
    }
  });

  it('marks all read from the contract index, without counting the rows again', async () => {
    for (const plan of await plansOf(markReadSql(false), [user.id])) {
      const nodes = allNodes(plan);
      expect(scansWhole(nodes)).toBe(false);
      // One read of the table: the rows to update.
      expect(nodes.filter((node) => node['Index Name']?.startsWith('notificaciones_'))).toEqual([
        expect.objectContaining({ 'Index Name': CONTRACT_INDEX }),
      ]);
    }
  });

  it('marks ids read through an index, never the whole table', async () => {
    for (const plan of await plansOf(markReadSql(true), [user.id, ids.slice(0, 50)])) {
      const nodes = allNodes(plan);
      expect(scansWhole(nodes)).toBe(false);
      const update = nodes.find((node) => node['Node Type'] === 'ModifyTable')!;
      // The primary key or the catch-up index: either finds the ids without the user's rows.
      expect(indexesRead(allNodes(update.Plans![0]))).toEqual([
        expect.stringMatching(/^notificaciones_(pkey|usuario_id_idx)$/),
      ]);
    }
  });

  it('catches up from the (usuario_id, id) index', async () => {
    expect(catchUp.values[0]).toBe(other.id);
    for (const plan of await plansOf(catchUp.text, catchUp.values)) {
      const nodes = allNodes(plan);
      expect(scansWhole(nodes)).toBe(false);
      expect(indexesRead(nodes)).toContain(CATCH_UP_INDEX);
    }
  });

  it('finds old rows for the purge in the contract index, user by user', async () => {
    for (const plan of await plansOf(PURGE_SQL, [30, 0])) {
      const nodes = allNodes(plan);
      expect(scansWhole(nodes)).toBe(false);
      // The unread range and the read range of each user, both bounded by fecha.
      const finds = nodes.filter(
        (node) => node['Index Name'] === CONTRACT_INDEX && /fecha </.test(node['Index Cond'] ?? ''),
      );
      expect(finds).toHaveLength(2);
    }
  });

  it('recounts for the delivery leader from the contract index', async () => {
    for (const plan of await plansOf(leaderRead.text, leaderRead.values)) {
      expect(
        allNodes(plan).some(
          (node) =>
            node['Index Name'] === CONTRACT_INDEX &&
            /usuario_id = /.test(node['Index Cond'] ?? '') &&
            /leida = false/.test(node['Index Cond'] ?? ''),
        ),
      ).toBe(true);
    }
  });

  it('keeps no other index: each one of these is what some statement above reads', async () => {
    expect(await secondaryIndexes(app.dataSource)).toEqual([CATCH_UP_INDEX, CONTRACT_INDEX]);
  });
});
