import { ConsoleLogger, DynamicModule, INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

/** Logs go to stderr, so stdout carries only the command's JSON or token. */
export class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr');
  }
}

/** Boots `module` without HTTP, runs `work` with it and closes it, whatever `work` does. */
export async function withContext<T>(
  module: DynamicModule,
  work: (app: INestApplicationContext) => Promise<T>,
): Promise<T> {
  const app = await NestFactory.createApplicationContext(module, {
    logger: new StderrLogger({ logLevels: ['error', 'warn'] }),
    abortOnError: false,
  });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}
