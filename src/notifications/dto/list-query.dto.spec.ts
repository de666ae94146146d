import { ArgumentMetadata, HttpException, ValidationPipe } from '@nestjs/common';
import {
  handCheckOf,
  STRICT_VALIDATION_OPTIONS,
  StrictValidationPipe,
} from '../../common/strict-validation.pipe';
import { checkListQuery, ListQueryDto } from './list-query.dto';

const metadata: ArgumentMetadata = { type: 'query', metatype: ListQueryDto };

/** What a pipe makes of a query: the instance's own values, or the 400's messages. */
async function outcome(
  pipe: ValidationPipe,
  query: Record<string, unknown>,
): Promise<{ dto: object } | { status: number; message: unknown }> {
  try {
    const dto = (await pipe.transform(query, metadata)) as object;
    expect(dto).toBeInstanceOf(ListQueryDto);
    return { dto: { ...dto } };
  } catch (error) {
    if (!(error instanceof HttpException)) throw error;
    return {
      status: error.getStatus(),
      message: (error.getResponse() as { message: unknown }).message,
    };
  }
}

/** The route's pipe, which takes the hand-written path for this DTO. */
const strict = new StrictValidationPipe();
/** The DTO's decorators through class-transformer and class-validator, as the definition. */
const decorators = new ValidationPipe(STRICT_VALIDATION_OPTIONS);

const LIMITS = [
  '1',
  '20',
  '100',
  '0',
  '101',
  '007',
  '00000000000001',
  '9'.repeat(15),
  '9'.repeat(16),
  '1e1',
  '0x10',
  ' 5',
  '5 ',
  '+5',
  '-1',
  '1.5',
  '1.0',
  '',
  'abc',
  'Infinity',
  'NaN',
  '１',
];
const CURSORS = [
  '',
  'abc',
  'x'.repeat(200),
  'x'.repeat(201),
  // 150 code points in 300 UTF-16 units: class-validator counts what a person sees.
  '😀'.repeat(150),
  '😀'.repeat(201),
  'é\uFE0F'.repeat(101),
];
const UNREADS = ['true', 'false', 'TRUE', 'False', '1', '0', '', ' true', 'yes'];
const TIPOS = [
  'pedido',
  'a',
  'a'.repeat(50),
  'a'.repeat(51),
  'stock_bajo-2',
  'Pedido',
  '',
  'a b',
  'ñ',
  'pedido\n',
];

describe('ListQueryDto checked by hand', () => {
  it('is what the strict pipe checks the list query with', () => {
    expect(handCheckOf(ListQueryDto)).toBe(checkListQuery);
  });

  it.each([
    ...LIMITS.map((limit) => ({ limit })),
    ...CURSORS.map((cursor) => ({ cursor })),
    ...UNREADS.map((unread) => ({ unread })),
    ...TIPOS.map((tipo) => ({ tipo })),
    {},
    { limit: '5', cursor: 'abc', unread: 'true', tipo: 'pedido' },
    { limit: 'abc', cursor: 'x'.repeat(201), unread: 'x', tipo: 'BAD' },
    { tipo: 'BAD', limit: '0', unread: '' },
    { unread: 'false', limit: '100' },
  ])('gives what the decorators give for %j', async (query) => {
    expect(checkListQuery(query)).not.toBeUndefined();
    expect(await outcome(strict, query)).toEqual(await outcome(decorators, query));
  });

  it.each([
    { limit: 5 },
    { limit: 500 },
    { limit: true },
    { cursor: { a: 1 } },
    { cursor: 7 },
    { unread: true },
    { unread: false },
    { tipo: 5 },
    { tipo: null },
  ])('leaves %j (not text) to the decorators', async (query) => {
    expect(checkListQuery(query)).toBeUndefined();
    expect(await outcome(strict, query)).toEqual(await outcome(decorators, query));
  });

  // The contract's rules, spelled out (the comparison above is what holds them exact).
  it('defaults limit to 20 and reads what the contract allows', async () => {
    expect(await outcome(strict, {})).toEqual({
      dto: { limit: 20, cursor: undefined, unread: undefined, tipo: undefined },
    });
    expect(
      await outcome(strict, { limit: '100', cursor: 'c', unread: 'true', tipo: 'pedido' }),
    ).toEqual({ dto: { limit: 100, cursor: 'c', unread: true, tipo: 'pedido' } });
    expect(await outcome(strict, { limit: '1', unread: 'false' })).toMatchObject({
      dto: { limit: 1, unread: false },
    });
  });

  it.each(['1e1', '0x10', ' 5', '', '1.5', '-1'])(
    'refuses limit=%j: plain decimal digits only',
    async (limit) => {
      expect(await outcome(strict, { limit })).toEqual({
        status: 400,
        message: expect.arrayContaining([
          'limit must be a whole number written in plain digits',
        ]) as unknown,
      });
    },
  );

  it('refuses limits outside 1..100, a long cursor, other unread values and bad kinds', async () => {
    expect(await outcome(strict, { limit: '0' })).toEqual({
      status: 400,
      message: ['limit must not be less than 1'],
    });
    expect(await outcome(strict, { limit: '101' })).toEqual({
      status: 400,
      message: ['limit must not be greater than 100'],
    });
    expect(await outcome(strict, { cursor: 'x'.repeat(201) })).toEqual({
      status: 400,
      message: ['cursor must be shorter than or equal to 200 characters'],
    });
    expect(await outcome(strict, { unread: '1' })).toEqual({
      status: 400,
      message: ['unread must be true or false'],
    });
    expect(await outcome(strict, { tipo: 'Pedido' })).toEqual({
      status: 400,
      message: ['tipo must be 1 to 50 characters of a-z, 0-9, _ and -'],
    });
  });

  it('refuses unknown parameters and parameters given twice, before any rule', async () => {
    expect(await outcome(strict, { limit: '5', page: '2' })).toEqual({
      status: 400,
      message: ['unknown parameter page'],
    });
    expect(await outcome(strict, { limit: ['5', '6'] })).toEqual({
      status: 400,
      message: ['limit must be given once'],
    });
  });
});
