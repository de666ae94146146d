// Preloaded into the service only when it is profiled: exits normally on SIGUSR2, so that
// --cpu-prof and --heap-prof write their files (a process killed by a signal writes none).
process.on('SIGUSR2', () => process.exit(0));
