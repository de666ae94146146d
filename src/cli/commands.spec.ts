import { COMMANDS, usage } from './commands';

describe('usage', () => {
  const lines = usage().split('\n');

  it('lists every command with its synopsis, in table order', () => {
    const listed = lines
      .filter((line) => /^ {2}\S/.test(line))
      .map((line) => line.trim().split(' ')[0]);
    expect(listed).toEqual(Object.keys(COMMANDS));
    for (const [name, { synopsis }] of Object.entries(COMMANDS)) {
      expect(lines.some((line) => line.startsWith(`  ${name} ${synopsis}`.trimEnd()))).toBe(true);
    }
  });

  it('starts every summary line in one column', () => {
    const summaries = Object.values(COMMANDS).flatMap(({ summary }) => summary);
    for (const summary of summaries) {
      const line = lines.find((candidate) => candidate.endsWith(summary))!;
      expect({ summary, column: line.length - summary.length }).toEqual({ summary, column: 37 });
    }
  });
});
