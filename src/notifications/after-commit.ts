import { Injectable } from '@nestjs/common';
import {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

interface Pending {
  /** The transaction depth (1 = outermost, more = savepoints) the task was queued at. */
  depth: number;
  task: () => void;
}

// TypeORM keeps the savepoint depth protected; it is what tells a savepoint from the real commit.
function depthOf(runner: QueryRunner): number {
  return (runner as unknown as { transactionDepth: number }).transactionDepth;
}

/**
 * Runs work after the caller's transaction commits, and drops it on rollback: the delivery leader
 * is rung once the outbox row is visible (a ring after a rollback would only be wasted, since a
 * rolled-back outbox row never exists). TypeORM has no per-transaction hook, but subscribers
 * hear every commit and rollback together with the query runner that did it.
 */
@Injectable()
export class AfterCommit implements EntitySubscriberInterface {
  private readonly pending = new WeakMap<QueryRunner, Pending[]>();

  constructor(dataSource: DataSource) {
    dataSource.subscribers.push(this);
  }

  /** Runs `task` now when `manager` is in no transaction, else once its transaction commits. */
  run(manager: EntityManager | undefined, task: () => void): void {
    const runner = manager?.queryRunner;
    if (!runner?.isTransactionActive) {
      task();
      return;
    }
    const queue = this.pending.get(runner) ?? [];
    queue.push({ depth: depthOf(runner), task });
    this.pending.set(runner, queue);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const queue = this.pending.get(runner);
    if (!queue) return;
    if (runner.isTransactionActive) {
      // A savepoint was released: its work now belongs to the enclosing transaction.
      const depth = depthOf(runner);
      for (const item of queue) item.depth = Math.min(item.depth, depth);
      return;
    }
    this.pending.delete(runner);
    for (const item of queue) item.task();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const queue = this.pending.get(runner);
    if (!queue) return;
    if (!runner.isTransactionActive) {
      this.pending.delete(runner);
      return;
    }
    // Rolled back to a savepoint: drop only what was queued inside it.
    const depth = depthOf(runner);
    this.pending.set(
      runner,
      queue.filter((item) => item.depth <= depth),
    );
  }
}
