/** Called as work is done: how much so far, out of how much. */
export type Progress = (done: number, total: number) => void;

/**
 * A progress bar on `stream` (stderr, so stdout keeps only the command's JSON): redrawn in
 * place on a terminal, a line per quarter otherwise (CI logs, pipes).
 */
export function progressBar(stream: NodeJS.WriteStream, label: string): Progress {
  const width = 30;
  let lastQuarter = -1;
  return (done, total) => {
    const ratio = total === 0 ? 1 : done / total;
    const percent = Math.floor(ratio * 100);
    if (stream.isTTY) {
      const filled = Math.round(ratio * width);
      stream.write(
        `\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${percent}% ${done}/${total}`,
      );
      if (done >= total) stream.write('\n');
      return;
    }
    const quarter = Math.floor(ratio * 4);
    if (quarter > lastQuarter) {
      lastQuarter = quarter;
      stream.write(`${label} ${percent}% ${done}/${total}\n`);
    }
  };
}
