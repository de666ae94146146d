import { randomBytes } from 'node:crypto';
import { createTestDatabase } from './support/database';

declare global {
  // Handed from global setup to global teardown (same process).
  var stopTestDatabase: (() => Promise<void>) | undefined;
}

export default async function globalSetup(): Promise<void> {
  const { database, stop } = await createTestDatabase();
  globalThis.stopTestDatabase = stop;
  // Every app a test boots reads these; tests that need Redis use TEST_REDIS_URL explicitly,
  // so the single-instance tests stay single-instance even where REDIS_URL is set.
  process.env.DATABASE_URL = database.url;
  process.env.TEST_ADMIN_DATABASE_URL = database.adminUrl;
  process.env.JWT_SECRET = randomBytes(32).toString('base64url');
  process.env.TEST_REDIS_URL ??= process.env.REDIS_URL ?? '';
  delete process.env.REDIS_URL;
  delete process.env.CORS_ORIGINS;
  delete process.env.PORT;
}
