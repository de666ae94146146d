import { Injectable } from '@nestjs/common';
import cluster, { Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

const METRICS_REQUEST = 'notificaciones:metrics-request';
const METRICS_ANSWER = 'notificaciones:metrics';

/** Longer than prom-client's own 5 s wait for the workers' figures. */
const ANSWER_TIMEOUT_MS = 6000;

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: string;
}

interface MetricsAnswer {
  type: typeof METRICS_ANSWER;
  id: string;
  body?: string;
  error?: string;
}

/**
 * In the primary: answers a worker's request for the whole service's metrics, gathered from
 * every worker and summed (prom-client's AggregatorRegistry: counters, histograms and gauges
 * such as sockets and pool connections add up; a few process figures average or keep one).
 */
export function answerMetricsRequests(): void {
  const registry = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: Partial<MetricsRequest> | null) => {
    if (message?.type !== METRICS_REQUEST || message.id === undefined) return;
    const answer = (fields: Pick<MetricsAnswer, 'body' | 'error'>) => {
      if (worker.isConnected()) {
        worker.send({ type: METRICS_ANSWER, id: message.id!, ...fields } satisfies MetricsAnswer);
      }
    };
    registry.clusterMetrics().then(
      (body) => answer({ body }),
      (error: Error) => answer({ error: error.message }),
    );
  });
}

/**
 * In a worker: what `/metrics` answers. A scrape reaches one worker, whichever the primary hands
 * it to, so the worker asks the primary for every worker's figures instead of giving its own.
 */
@Injectable()
export class ClusterMetrics {
  private readonly contentType: string;

  constructor(metrics: MetricsService) {
    // Gives the primary this worker's registry when it asks (prom-client listens for it).
    AggregatorRegistry.setRegistries([metrics.registry]);
    new AggregatorRegistry();
    this.contentType = metrics.registry.contentType;
  }

  /** The text exposition of the whole service's metrics, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const id = randomUUID();
    const body = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        process.off('message', listener);
        reject(new Error('the primary did not answer with the metrics in time'));
      }, ANSWER_TIMEOUT_MS);
      const listener = (message: Partial<MetricsAnswer> | null) => {
        if (message?.type !== METRICS_ANSWER || message.id !== id) return;
        clearTimeout(timer);
        process.off('message', listener);
        if (message.body !== undefined) resolve(message.body);
        else reject(new Error(`gathering the workers' metrics failed: ${message.error}`));
      };
      process.on('message', listener);
      process.send!({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
    return { contentType: this.contentType, body };
  }
}
