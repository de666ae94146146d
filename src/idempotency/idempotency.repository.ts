import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { runPrepared } from '../database/prepared';

/** How long a key answers with its first response. */
export const KEY_TTL = '24 hours';
/**
 * A key still running after this long, whose work holds no lock on it, was left by a request
 * that ended without giving it up (its process died, or the database lost its reply): a repeat
 * may run it again. Work in progress keeps its key locked, so it is never taken over; this is
 * only the wait between a claim and its work, and for a request that failed, past its deadline.
 */
export const ABANDONED_AFTER = '30 seconds';

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
   * at once, so a concurrent request with the same key sees it running. It never waits for the
   * work of another request with the key (which locks it): that key is simply not taken, and the
   * caller answers 409 at once instead of holding a connection until the work ends.
   */
  async claim(senderId: number, key: string, huella: string, owner: string): Promise<boolean> {
    const rows = await runPrepared<unknown>(
      this.dataSource,
      'claves_idempotencia.claim',
      `WITH inserted AS (
         INSERT INTO claves_idempotencia (emisor_id, clave, huella, dueno)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (emisor_id, clave) DO NOTHING
         RETURNING 1
       ), taken AS (
         UPDATE claves_idempotencia
         SET huella = $3, dueno = $4, respuesta = NULL, creada = now()
         WHERE ctid = (SELECT ctid FROM claves_idempotencia
                       WHERE emisor_id = $1 AND clave = $2
                         AND (creada < now() - interval '${KEY_TTL}'
                              OR (respuesta IS NULL
                                  AND creada < now() - interval '${ABANDONED_AFTER}'))
                       FOR UPDATE SKIP LOCKED)
           AND NOT EXISTS (SELECT 1 FROM inserted)
         RETURNING 1
       )
       SELECT 1 FROM inserted UNION ALL SELECT 1 FROM taken`,
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
