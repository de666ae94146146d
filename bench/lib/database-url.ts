/** The same server, user and options as `url`, naming `database` instead (the bench and tests). */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
