// The list baseline: a bare node:http handler running the service's list SQL through pg, with
// no framework, no authentication and no validation. It runs in a worker thread of the bench
// process, so it has an event loop of its own rather than sharing the load generator's.
import { createServer } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'pg';
import { decodeCursor, encodeCursor } from '../../src/notifications/cursor';
import {
  COUNT_UNREAD_SQL,
  listSql,
  listStatementName,
} from '../../src/notifications/inbox.repository';

interface Options {
  databaseUrl: string;
  poolSize: number;
}

interface Row {
  id: string;
  mensaje: string;
  leida: boolean;
  fecha: Date;
  tipo: string;
  url: string | null;
  datos: Record<string, unknown> | null;
  position: string;
}

const { databaseUrl, poolSize } = workerData as Options;
const pool = new Pool({
  connectionString: databaseUrl,
  max: poolSize,
  application_name: 'bench-list-baseline',
});

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const userId = Number(url.searchParams.get('user'));
  const limit = Number(url.searchParams.get('limit') ?? 20);
  const cursor = url.searchParams.get('cursor');
  const after = cursor ? decodeCursor(cursor) : undefined;
  const params: unknown[] = [userId, limit + 1];
  if (after) params.push(after.fecha, after.id);
  const respond = async () => {
    // Named (prepared once per connection), as the service's are.
    const shape = { unread: false, after: after !== undefined };
    // The page and the count side by side, as the service asks them.
    const [list, count] = await Promise.all([
      pool.query<Row>({ name: listStatementName(shape), text: listSql(shape), values: params }),
      pool.query<{ count: number }>({
        name: 'count-unread',
        text: COUNT_UNREAD_SQL,
        values: [[userId]],
      }),
    ]);
    const unreadCount = count.rows[0].count;
    const page = list.rows.slice(0, limit);
    const last = page.at(-1);
    return JSON.stringify({
      notifications: page.map((row) => ({
        id: Number(row.id),
        mensaje: row.mensaje,
        leida: row.leida,
        fecha: row.fecha.toISOString(),
        tipo: row.tipo,
        url: row.url,
        datos: row.datos,
      })),
      unread_count: unreadCount,
      next_cursor:
        list.rows.length > limit && last
          ? encodeCursor({ fecha: last.position, id: Number(last.id) })
          : null,
    });
  };
  respond().then(
    (body) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(body);
    },
    (error: Error) => {
      res.writeHead(500).end(error.message);
    },
  );
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  parentPort?.postMessage({ port: typeof address === 'object' && address ? address.port : 0 });
});
