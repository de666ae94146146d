import { MENSAJE_MAX_LENGTH, mensajeProblem } from './mensaje';

describe('mensajeProblem', () => {
  it('bounds mensaje at 10,000 characters, as the contract does', () => {
    expect(MENSAJE_MAX_LENGTH).toBe(10_000);
  });

  it.each([
    ['one character', 'a'],
    ['a single space', ' '],
    ['10,000 ASCII characters', 'a'.repeat(10_000)],
    // 20,000 UTF-16 units, 10,000 code points: PostgreSQL's char_length says 10,000.
    ['10,000 emoji', '😀'.repeat(10_000)],
    ['mixed astral and BMP text at the limit', '𝄞é'.repeat(5_000)],
    ['accents and newlines', 'Pedido #42\nlisto para servir: ¡olé!'],
  ])('accepts %s', (_name, mensaje) => {
    expect(mensajeProblem(mensaje)).toBeUndefined();
  });

  it.each([
    ['an empty string', '', /empty/],
    ['10,001 ASCII characters', 'a'.repeat(10_001), /at most 10000/],
    ['10,001 emoji', '😀'.repeat(10_001), /at most 10000/],
    ['10,000 emoji and one more character', '😀'.repeat(10_000) + 'a', /at most 10000/],
    ['a NUL alone', '\u0000', /NUL/],
    ['a NUL inside', 'hola\u0000mundo', /NUL/],
    ['a NUL at the end', 'hola\u0000', /NUL/],
    ['a lone high surrogate', 'hola \ud83d', /surrogate/],
    ['a lone low surrogate', '\ude00 hola', /surrogate/],
    ['surrogates in the wrong order', '\ude00\ud83d', /surrogate/],
  ])('rejects %s', (_name, mensaje, why) => {
    expect(mensajeProblem(mensaje)).toMatch(why);
  });

  it.each([[undefined], [null], [42], [['hola']], [{ mensaje: 'hola' }], [true]])(
    'rejects the non-string %j',
    (mensaje) => {
      expect(mensajeProblem(mensaje)).toMatch(/string/);
    },
  );
});
