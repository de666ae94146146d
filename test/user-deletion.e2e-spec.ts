import { DataSource } from 'typeorm';
import { User } from '../src/users/user.entity';
import { openTestDatabase } from './support/database';
import { createUser, insertNotifications } from './support/fixtures';

describe('the users table', () => {
  let database: DataSource;
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(() => database?.destroy());

  it('deleting a user deletes its notifications', async () => {
    const doomed = await createUser(database);
    const kept = await createUser(database);
    await insertNotifications(database, doomed, 3);
    const keptIds = await insertNotifications(database, kept, 2);
    const countOf = async (user: User) =>
      (
        await database.query<Array<{ count: number }>>(
          'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1',
          [user.id],
        )
      )[0].count;
    expect(await countOf(doomed)).toBe(3);

    await database.query('DELETE FROM users WHERE id = $1', [doomed.id]);
    expect(await countOf(doomed)).toBe(0);
    expect(await countOf(kept)).toBe(keptIds.length);
  });
});
