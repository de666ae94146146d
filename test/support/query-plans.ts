import { Client, type QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import { pgPoolOf } from '../../src/database/pg-pool';

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)` plan, with the fields these tests read. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Parent Relationship'?: string;
  'Subplan Name'?: string;
  Plans?: PlanNode[];
}

/** A statement as the service sent it to PostgreSQL. */
export interface SentStatement {
  /** The prepared statement's name; undefined for an unnamed one. */
  name?: string;
  text: string;
  values: unknown[];
}

/** A call of `Client.prototype.query` as a statement, or undefined (a call without text). */
function statementOf([config, values]: unknown[]): SentStatement | undefined {
  if (typeof config === 'string') {
    return { text: config, values: Array.isArray(values) ? (values as unknown[]) : [] };
  }
  if (config && typeof config === 'object' && 'text' in config) {
    const query = config as QueryConfig & { name?: string };
    return { name: query.name, text: query.text, values: query.values ?? [] };
  }
  return undefined;
}

/**
 * Records every statement any `pg` client of this process sends (the pool's connections and
 * the delivery leader's own), still sending them, until `stop` is called.
 */
export function recordStatements(): { sent: () => SentStatement[]; stop: () => void } {
  const spy = jest.spyOn(Client.prototype, 'query');
  return {
    sent: () =>
      spy.mock.calls
        .map((call) => statementOf(call as unknown[]))
        .filter((statement): statement is SentStatement => statement !== undefined),
    stop: () => spy.mockRestore(),
  };
}

/** The parameter as SQL literal text (numbers, strings, dates, arrays of numbers), or NULL. */
function literal(client: Client, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (Array.isArray(value)) return client.escapeLiteral(`{${value.map(String).join(',')}}`);
  if (value instanceof Date) return client.escapeLiteral(value.toISOString());
  if (typeof value === 'string' || typeof value === 'number') {
    return client.escapeLiteral(String(value));
  }
  throw new TypeError(`no literal for ${typeof value} parameters`);
}

/**
 * The plan PostgreSQL chooses for `text` with `values`: the custom plan it makes for these
 * values, or (`generic`) the plan a prepared statement may switch to after five runs, made
 * without them. The service runs its statements prepared, so both have to be right. The
 * statement is explained, never run.
 */
export async function planOf(
  dataSource: DataSource,
  text: string,
  values: unknown[],
  { generic = false }: { generic?: boolean } = {},
): Promise<PlanNode> {
  const client = await pgPoolOf(dataSource)!.connect();
  try {
    if (!generic) {
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `EXPLAIN (FORMAT JSON) ${text}`,
        values,
      );
      return rows[0]['QUERY PLAN'][0].Plan;
    }
    await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query(`PREPARE plan_under_test AS ${text}`);
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `EXPLAIN (FORMAT JSON) EXECUTE plan_under_test(${values
          .map((value) => literal(client, value))
          .join(', ')})`,
      );
      return rows[0]['QUERY PLAN'][0].Plan;
    } finally {
      await client.query('DEALLOCATE plan_under_test');
      await client.query('RESET plan_cache_mode');
    }
  } finally {
    client.release();
  }
}

/** Every node of the plan, sub-plans (CTEs, sub-selects) included. */
export function allNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(allNodes)];
}

/**
 * The nodes that produce the rows, leaving out sub-plans (such as a count a statement carries
 * alongside its rows).
 */
export function rowSources(plan: PlanNode): PlanNode[] {
  const children = (plan.Plans ?? []).filter(
    (child) => !['InitPlan', 'SubPlan'].includes(child['Parent Relationship'] ?? ''),
  );
  return [plan, ...children.flatMap(rowSources)];
}

/** The indexes of `notificaciones` these nodes read. */
export function indexesRead(nodes: PlanNode[]): string[] {
  return [
    ...new Set(
      nodes
        .map((node) => node['Index Name'])
        .filter((name): name is string => name?.startsWith('notificaciones_') ?? false),
    ),
  ].sort();
}

/** Whether any of these nodes reads `notificaciones` whole. */
export function scansWhole(nodes: PlanNode[]): boolean {
  return nodes.some(
    (node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'notificaciones',
  );
}

/** The indexes of `notificaciones` other than its primary key. */
export async function secondaryIndexes(dataSource: DataSource): Promise<string[]> {
  const rows = await dataSource.query<Array<{ name: string }>>(
    `SELECT i.indexrelid::regclass::text AS name
     FROM pg_index i
     WHERE i.indrelid = 'notificaciones'::regclass AND NOT i.indisprimary
     ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}
