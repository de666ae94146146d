// Preloaded into every server the bench starts (run with --expose-gc and an IPC channel): on a
// 'heap' message it collects garbage fully and answers with the heap still in use, so the
// connections workload measures heap per socket instead of inferring it from resident memory.
process.on('message', (message) => {
  if (message !== 'heap') return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.({ heapUsed: process.memoryUsage().heapUsed });
});
// The channel must not keep a server alive once it has closed everything else.
process.channel?.unref();
