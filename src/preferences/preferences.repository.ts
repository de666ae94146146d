import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { runPrepared } from '../database/prepared';

/** The SQL of per-user preferences (the notification INSERTs join the table themselves). */
@Injectable()
export class PreferencesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The kinds the user silenced (none when the user never said). */
  async silencedOf(userId: number): Promise<string[]> {
    const [row] = await runPrepared<{ silenciados: string[] }>(
      this.dataSource,
      'preferencias.silenced-of',
      'SELECT silenciados FROM preferencias WHERE usuario_id = $1',
      [userId],
    );
    return row?.silenciados ?? [];
  }

  /** Replaces the kinds the user silenced; returns them as stored. */
  async setSilenced(userId: number, silenciados: string[]): Promise<string[]> {
    const [row] = await runPrepared<{ silenciados: string[] }>(
      this.dataSource,
      'preferencias.set-silenced',
      `INSERT INTO preferencias (usuario_id, silenciados) VALUES ($1, $2::text[])
       ON CONFLICT (usuario_id) DO UPDATE SET silenciados = excluded.silenciados
       RETURNING silenciados`,
      [userId, silenciados],
    );
    return row.silenciados;
  }
}
