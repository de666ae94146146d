import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { runPrepared } from '../database/prepared';

/** How long a key answers with its first response. */
export const KEY_TTL = '24 hours';
/**
 * A key still running after this long was left by a process that died before its transaction
 * committed (nothing was stored then): a repeat may run it again. Far past any request's deadline.
 */
export const ABANDONED_AFTER = '2 minutes';

export interface StoredKey {
  huella: string;
  respuesta: unknown;
}

/** The SQL of idempotency keys. */
@Injectable()
export class IdempotencyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Takes the key for `owner` when it is new, expired, or abandoned; true when taken. Committed
   * at once, so a concurrent request with the same key sees it running.
   */
  async claim(senderId: number, key: string, huella: string, owner: string): Promise<boolean> {
    const rows = await runPrepared<unknown>(
      this.dataSource,
      'claves_idempotencia.claim',
      `INSERT INTO claves_idempotencia (emisor_id, clave, huella, dueno) VALUES ($1, $2, $3, $4)
       ON CONFLICT (emisor_id, clave) DO UPDATE
         SET huella = excluded.huella, dueno = excluded.dueno, respuesta = NULL, creada = now()
         WHERE claves_idempotencia.creada < now() - interval '${KEY_TTL}'
            OR (claves_idempotencia.respuesta IS NULL
                AND claves_idempotencia.creada < now() - interval '${ABANDONED_AFTER}')
       RETURNING 1`,
      [senderId, key, huella, owner],
    );
    return rows.length > 0;
  }

  /** The key as stored, when it is within its 24 hours. */
  async find(senderId: number, key: string): Promise<StoredKey | undefined> {
    const [row] = await runPrepared<StoredKey>(
      this.dataSource,
      'claves_idempotencia.find',
      `SELECT huella, respuesta FROM claves_idempotencia
       WHERE emisor_id = $1 AND clave = $2 AND creada >= now() - interval '${KEY_TTL}'`,
      [senderId, key],
    );
    return row;
  }

  /**
   * Inside the transaction that does the work: locks the key, if `owner` still holds it
   * (a repeat that took it over as abandoned then waits for this transaction, and replays).
   */
  async lockOwned(
    manager: EntityManager,
    senderId: number,
    key: string,
    owner: string,
  ): Promise<boolean> {
    const rows = await runPrepared<unknown>(
      this.dataSource,
      'claves_idempotencia.lock-owned',
      `SELECT 1 FROM claves_idempotencia
       WHERE emisor_id = $1 AND clave = $2 AND dueno = $3 AND respuesta IS NULL
       FOR UPDATE`,
      [senderId, key, owner],
      manager,
    );
    return rows.length > 0;
  }

  /** Stores the response, in the transaction that did the work: both commit or neither. */
  async complete(
    manager: EntityManager,
    senderId: number,
    key: string,
    respuesta: unknown,
  ): Promise<void> {
    await runPrepared(
      this.dataSource,
      'claves_idempotencia.complete',
      `UPDATE claves_idempotencia SET respuesta = $3 WHERE emisor_id = $1 AND clave = $2`,
      [senderId, key, JSON.stringify(respuesta)],
      manager,
    );
  }

  /** Gives the key up after a failure: nothing was stored, so a repeat may run it again. */
  async release(senderId: number, key: string, owner: string): Promise<void> {
    await runPrepared(
      this.dataSource,
      'claves_idempotencia.release',
      `DELETE FROM claves_idempotencia
       WHERE emisor_id = $1 AND clave = $2 AND dueno = $3 AND respuesta IS NULL`,
      [senderId, key, owner],
    );
  }

  /** Deletes keys past their 24 hours; returns how many. */
  async purgeExpired(): Promise<number> {
    const [row] = await runPrepared<{ count: number }>(
      this.dataSource,
      'claves_idempotencia.purge-expired',
      `WITH gone AS (
         DELETE FROM claves_idempotencia WHERE creada < now() - interval '${KEY_TTL}' RETURNING 1
       )
       SELECT count(*)::int AS count FROM gone`,
      [],
    );
    return row.count;
  }
}
