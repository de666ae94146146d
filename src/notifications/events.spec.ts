import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('the Socket.IO event map', () => {
  it('imports nothing, so a frontend can copy or import it without pulling in the server', () => {
    const source = readFileSync(join(__dirname, 'events.ts'), 'utf8');
    expect(source).not.toMatch(/^\s*(import|export\s+[^;]*\bfrom\b)|\brequire\(/m);
  });
});
