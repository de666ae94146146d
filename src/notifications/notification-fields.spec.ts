import { datosProblem, tipoProblem, urlProblem } from './notification-fields';

describe('tipoProblem', () => {
  it.each(['general', 'pedido', 'stock_bajo', 'gasto-2025', 'a', 'x'.repeat(50)])(
    'accepts %s',
    (tipo) => expect(tipoProblem(tipo)).toBeUndefined(),
  );

  it.each<[string, unknown]>([
    ['empty', ''],
    ['51 characters', 'x'.repeat(51)],
    ['capitals', 'Pedido'],
    ['a space', 'stock bajo'],
    ['an accent', 'notificación'],
    ['a dot', 'a.b'],
    ['a number', 5],
    ['null', null],
  ])('refuses %s', (_name, tipo) => expect(tipoProblem(tipo)).toMatch(/tipo/));
});

describe('urlProblem', () => {
  it.each([
    '/',
    '/pedidos/42',
    '/pedidos/42?tab=lineas#3',
    'https://example.com/a',
    'http://localhost:8000/x',
    'HTTPS://EXAMPLE.COM',
    '/' + 'a'.repeat(1999),
  ])('accepts %s', (url) => expect(urlProblem(url)).toBeUndefined());

  it.each<[string, unknown]>([
    ['empty', ''],
    ['a relative path', 'pedidos/42'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,hi'],
    ['ftp', 'ftp://example.com'],
    ['protocol-relative', '//evil.example.com'],
    ['a backslash after the slash', '/\\evil.example.com'],
    ['a space', '/a b'],
    ['a newline', '/a\nb'],
    ['a NUL', '/a\u0000'],
    ['2,001 characters', '/' + 'a'.repeat(2000)],
    ['http:// with no host', 'http://'],
    ['a number', 42],
  ])('refuses %s', (_name, url) => expect(urlProblem(url)).toMatch(/url/));
});

describe('datosProblem', () => {
  it.each<[string, unknown]>([
    ['an empty object', {}],
    ['nested values', { pedido: 42, lineas: [{ id: 1 }], ok: true, nada: null }],
    ['4,096 bytes exactly', { k: 'a'.repeat(4096 - '{"k":""}'.length) }],
    ['an emoji pair', { e: '😀' }],
  ])('accepts %s', (_name, datos) => expect(datosProblem(datos)).toBeUndefined());

  it.each<[string, unknown]>([
    ['an array', [1]],
    ['a string', 'x'],
    ['null', null],
    ['4,097 bytes', { k: 'a'.repeat(4097 - '{"k":""}'.length) }],
    ['multi-byte text past 4 KiB', { k: 'é'.repeat(2100) }],
    ['a NUL in a value', { k: 'a\u0000' }],
    ['a NUL in a key', { 'a\u0000': 1 }],
    ['a lone surrogate deep inside', { a: [{ b: '\ud83d' }] }],
  ])('refuses %s', (_name, datos) => expect(datosProblem(datos)).toMatch(/datos/));
});
