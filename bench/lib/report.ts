import { round } from './stats';

/** A target a figure is held to: a label for the table and the check itself. */
export interface Target {
  text: string;
  /** `ratio` is ours / baseline, NaN when there is no baseline. */
  met(ours: number, ratio: number): boolean;
}

/** One line of the results table. */
export interface ResultRow {
  workload: string;
  metric: string;
  ours: number;
  /** The raw baseline's figure for the same metric, when there is one. */
  baseline?: number;
  /** ours / baseline. */
  ratio?: number;
  target?: string;
  /** Whether the target was met; undefined when there is none or it is not enforced (--quick). */
  pass?: boolean;
}

/** Collects rows; in --quick mode targets are shown but not judged. */
export class Report {
  readonly rows: ResultRow[] = [];

  constructor(private readonly enforce: boolean) {}

  add(
    workload: string,
    metric: string,
    ours: number,
    options: { baseline?: number; target?: Target } = {},
  ): void {
    const { baseline, target } = options;
    const ratio =
      baseline !== undefined && Number.isFinite(baseline) && baseline !== 0
        ? ours / baseline
        : undefined;
    this.rows.push({
      workload,
      metric,
      ours: round(ours),
      baseline: baseline === undefined ? undefined : round(baseline),
      ratio: ratio === undefined ? undefined : Math.round(ratio * 100) / 100,
      target: target?.text,
      pass:
        target && this.enforce
          ? Number.isFinite(ours) && target.met(ours, ratio ?? Number.NaN)
          : undefined,
    });
  }

  /** Targets missed (always 0 when not enforced). */
  failures(): number {
    return this.rows.filter((row) => row.pass === false).length;
  }

  /** The table as fixed-width text. */
  table(): string {
    const header = ['workload', 'metric', 'ours', 'baseline', 'ratio', 'target', 'result'];
    const cell = (value: number | undefined) =>
      value === undefined ? '-' : Number.isNaN(value) ? 'n/a' : value.toLocaleString('en-US');
    const lines = this.rows.map((row) => [
      row.workload,
      row.metric,
      cell(row.ours),
      cell(row.baseline),
      row.ratio === undefined ? '-' : `${row.ratio.toFixed(2)}x`,
      row.target ?? '-',
      row.pass === undefined
        ? row.target && !this.enforce
          ? 'not judged'
          : '-'
        : row.pass
          ? 'pass'
          : 'FAIL',
    ]);
    const widths = header.map((title, column) =>
      Math.max(title.length, ...lines.map((line) => line[column].length)),
    );
    const numeric = new Set([2, 3, 4]);
    const format = (line: string[]) =>
      line
        .map((value, column) =>
          numeric.has(column) ? value.padStart(widths[column]) : value.padEnd(widths[column]),
        )
        .join('  ')
        .trimEnd();
    return [
      format(header),
      widths.map((width) => '-'.repeat(width)).join('  '),
      ...lines.map(format),
    ].join('\n');
  }
}

/** Targets of the issue, as checks. */
export const at = {
  least: (value: number, unit = ''): Target => ({
    text: `>= ${value.toLocaleString('en-US')}${unit}`,
    met: (ours) => ours >= value,
  }),
  below: (value: number, unit = ''): Target => ({
    text: `< ${value.toLocaleString('en-US')}${unit}`,
    met: (ours) => ours < value,
  }),
  zero: (): Target => ({ text: '0', met: (ours) => ours === 0 }),
  ratioAtLeast: (value: number): Target => ({
    text: `>= ${value}x baseline`,
    met: (_ours, ratio) => ratio >= value,
  }),
  ratioAtMost: (value: number, what = 'baseline'): Target => ({
    text: `<= ${value}x ${what}`,
    met: (_ours, ratio) => ratio <= value,
  }),
};

/** Every one of `targets`. */
export function allOf(...targets: Target[]): Target {
  return {
    text: targets.map((target) => target.text).join(' and '),
    met: (ours, ratio) => targets.every((target) => target.met(ours, ratio)),
  };
}
