import type { BenchDatabase } from './database';
import type { Report } from './report';
import type { Service } from './service';

/** Sizes and durations of one run: the full run of issue 4, or the tiny --quick run. */
export interface Sizes {
  deliverUsers: number;
  deliverSeconds: number;
  deliverConcurrency: number[];
  warmupSeconds: number;
  fanoutUsers: number;
  fanoutConnected: number;
  fanoutRepeats: number;
  listSmallUsers: number;
  listRowsSmall: number;
  listRowsBig: number;
  listSeconds: number;
  listConcurrency: number;
  markreadRows: number;
  markreadRepeats: number;
  connections: number;
  /** Idle time before each memory reading of the connections workload. */
  connectionsSettleSeconds: number;
  clusterSeconds: number;
  /** One service instance for every single-instance workload (--quick: start-up dominates). */
  shareService: boolean;
}

export const FULL: Sizes = {
  deliverUsers: 1000,
  deliverSeconds: 15,
  deliverConcurrency: [16, 64],
  warmupSeconds: 2,
  fanoutUsers: 10_000,
  fanoutConnected: 1000,
  fanoutRepeats: 5,
  listSmallUsers: 5000,
  listRowsSmall: 1_000_000,
  listRowsBig: 100_000,
  listSeconds: 15,
  listConcurrency: 32,
  markreadRows: 10_000,
  markreadRepeats: 5,
  connections: 10_000,
  connectionsSettleSeconds: 3,
  clusterSeconds: 15,
  shareService: false,
};

export const QUICK: Sizes = {
  deliverUsers: 50,
  deliverSeconds: 1,
  deliverConcurrency: [16, 64],
  warmupSeconds: 0.3,
  fanoutUsers: 500,
  fanoutConnected: 50,
  fanoutRepeats: 2,
  listSmallUsers: 50,
  listRowsSmall: 10_000,
  listRowsBig: 2000,
  listSeconds: 1,
  listConcurrency: 32,
  markreadRows: 1000,
  markreadRepeats: 2,
  connections: 200,
  connectionsSettleSeconds: 0.3,
  clusterSeconds: 1,
  shareService: true,
};

/** What every workload gets. */
export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  db: BenchDatabase;
  /** JWT_SECRET the services run with. */
  secret: string;
  /** Unique per run: user names and messages carry it. */
  tag: string;
  report: Report;
  /** Raw figures for the JSON file, per workload. */
  details: Record<string, unknown>;
  redisUrl?: string;
  /** Client sockets this process may hold at once (from the open-files limit). */
  maxClientSockets: number;
  /** Starts an instance of the built service; the run stops it at the end whatever happens. */
  startService(name: string, options?: { redisUrl?: string }): Promise<Service>;
}

/** A workload: one name for --only, one function. */
export interface Workload {
  name: string;
  run(context: BenchContext): Promise<void>;
}
