/** The contract's bounds on `mensaje`, counted in Unicode code points as PostgreSQL counts them. */
export const MENSAJE_MAX_LENGTH = 10_000;

/** Why this text cannot be a `mensaje`, or undefined when it can. */
export function mensajeProblem(mensaje: unknown): string | undefined {
  if (typeof mensaje !== 'string') return 'mensaje must be a string';
  // Not `mensaje.length`: that counts UTF-16 units, so an emoji would count twice.
  let length = 0;
  for (const char of mensaje) {
    if (char === '\u0000') return 'mensaje must not contain NUL characters';
    // A lone surrogate is valid JSON but not text: PostgreSQL would store U+FFFD instead.
    if (char.length === 1 && char >= '\ud800' && char <= '\udfff')
      return 'mensaje must be valid Unicode text (no lone surrogates)';
    length += 1;
  }
  if (length < 1) return 'mensaje must not be empty';
  if (length > MENSAJE_MAX_LENGTH)
    return `mensaje must be at most ${MENSAJE_MAX_LENGTH} characters`;
  return undefined;
}
