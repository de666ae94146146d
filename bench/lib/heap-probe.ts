// Preloaded into every server the bench starts (run with --expose-gc and an IPC channel): on a
// 'heap' message it collects garbage fully and answers with the heap still in use, so the
// connections workload measures heap per socket instead of inferring it from resident memory.
import cluster from 'node:cluster';

process.on('message', (message) => {
  if (message !== 'heap') return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.({ heapUsed: process.memoryUsage().heapUsed });
});
// The channel must not keep a server alive once it has closed everything else. A cluster worker
// (the service with WORKERS above 1 preloads this too) lives on its channel: left alone.
if (!cluster.isWorker) process.channel?.unref();
