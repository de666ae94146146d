import { DataSource } from 'typeorm';
import { waitFor } from './wait';

/**
 * Resolves once the delivery leader has published everything committed so far: it deletes an
 * outbox row only after publishing it, so an empty outbox means nothing is left to push.
 */
export async function outboxDrained(dataSource: DataSource, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    'the delivery leader to publish the outbox',
    async () => {
      const [{ count }] = await dataSource.query<Array<{ count: number }>>(
        'SELECT count(*)::int AS count FROM entregas_pendientes',
      );
      return count === 0;
    },
    { timeoutMs, intervalMs: 20 },
  );
}
