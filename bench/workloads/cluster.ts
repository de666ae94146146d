import type { Workload } from '../lib/context';
import { info } from '../lib/log';
import { measureDeliver } from './deliver';

/**
 * Two instances sharing Redis: sockets on one, sends through the other, so every notification
 * crosses the Socket.IO Redis adapter. Runs only when REDIS_URL is set.
 */
export const cluster: Workload = {
  name: 'cluster',
  async run(context) {
    if (!context.redisUrl) {
      info('cluster: skipped (REDIS_URL is not set)');
      context.details.cluster = { skipped: 'REDIS_URL is not set' };
      return;
    }
    const sockets = await context.startService('cluster-a', { redisUrl: context.redisUrl });
    try {
      const sends = await context.startService('cluster-b', { redisUrl: context.redisUrl });
      try {
        await measureDeliver(context, {
          workload: 'cluster',
          socketUrl: sockets.url,
          sendUrl: sends.url,
          concurrency: [16],
          seconds: context.sizes.clusterSeconds,
          judged: false,
        });
      } finally {
        await sends.stop();
      }
    } finally {
      await sockets.stop();
    }
  },
};
