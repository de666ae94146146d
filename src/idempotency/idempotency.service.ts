import {
  BadRequestException,
  ConflictException,
  Injectable,
  UnprocessableEntityException,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyRepository } from './idempotency.repository';

/** 1 to 200 printable ASCII characters. */
const KEY_PATTERN = /^[\x20-\x7e]{1,200}$/;

/**
 * Idempotency-Key: a repeat of a request with the same key by the same sender within 24 hours
 * answers the first response and does nothing; with another body, 422; while the first is still
 * running, 409. Only a response that did something is kept: a request that failed stored nothing,
 * so its key is given up and a repeat runs it again.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly keys: IdempotencyRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** The header's value, checked (400 when it is not 1..200 printable ASCII). */
  parseKey(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    if (!KEY_PATTERN.test(header))
      throw new BadRequestException('Idempotency-Key must be 1 to 200 printable ASCII characters');
    return header;
  }

  /** Runs `work` once per key: its writes and the stored response commit together. */
  async run<T>(
    senderId: number,
    key: string,
    request: unknown,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const huella = createHash('sha256').update(JSON.stringify(request)).digest('hex');
    const owner = randomUUID();
    if (!(await this.keys.claim(senderId, key, huella, owner))) {
      const stored = await this.keys.find(senderId, key);
      if (stored === undefined)
        throw new ConflictException('a request with this Idempotency-Key is in progress');
      if (stored.huella !== huella)
        throw new UnprocessableEntityException(
          'this Idempotency-Key was used with a different request',
        );
      if (stored.respuesta === null)
        throw new ConflictException('a request with this Idempotency-Key is in progress');
      return stored.respuesta as T;
    }
    try {
      return await this.dataSource.transaction(async (manager) => {
        if (!(await this.keys.lockOwned(manager, senderId, key, owner)))
          throw new ConflictException('a request with this Idempotency-Key is in progress');
        const response = await work(manager);
        await this.keys.complete(manager, senderId, key, response);
        return response;
      });
    } catch (error) {
      await this.keys.release(senderId, key, owner).catch(() => undefined);
      throw error;
    }
  }

  /** Deletes keys past their 24 hours (the retention job and the CLI's purge). */
  purgeExpired(): Promise<number> {
    return this.keys.purgeExpired();
  }
}
