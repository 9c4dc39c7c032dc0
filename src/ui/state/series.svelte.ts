// A table of numbers that grows one row at a time (a metric per column, one row per PPO iteration,
// reward-model update or gold evaluation). Columns are Float32Arrays that double when full, so a
// 1000-iteration run costs a few kilobytes and no per-row objects; only `length` is reactive, and
// components that draw the series read it to know when to redraw.

export class Series<C extends string = string> {
  /** Rows held; reading it subscribes a component or effect to new rows. */
  length = $state(0);
  /** Bumped by clear(): a chart that drew old rows starts again. */
  generation = $state(0);
  private columns: Float32Array[];

  constructor(readonly names: readonly C[], capacity = 256) {
    this.columns = names.map(() => new Float32Array(capacity));
  }

  /** Appends one row: values in the order of `names` (a transferred Float32Array from the worker). */
  push(row: ArrayLike<number>): void {
    if (row.length !== this.names.length) throw new RangeError(`a row of ${row.length} values for ${this.names.length} columns`);
    const n = this.length;
    if (n === this.columns[0].length) {
      this.columns = this.columns.map((c) => {
        const bigger = new Float32Array(c.length * 2);
        bigger.set(c);
        return bigger;
      });
    }
    this.columns.forEach((c, i) => (c[n] = row[i]));
    this.length = n + 1;
  }

  /** Appends a row given by name (missing names are NaN). */
  pushRecord(record: Partial<Record<C, number>>): void {
    this.push(this.names.map((name) => record[name] ?? NaN));
  }

  /** The values of one column so far (a view: copy it to keep it). */
  column(name: C): Float32Array {
    const i = this.names.indexOf(name);
    if (i < 0) throw new RangeError(`no column "${name}"`);
    return this.columns[i].subarray(0, this.length);
  }

  /** The last value of a column, or NaN with no rows. */
  last(name: C): number {
    return this.length === 0 ? NaN : this.column(name)[this.length - 1];
  }

  clear(): void {
    this.length = 0;
    this.generation += 1;
  }

  /** The chosen columns as CSV with a header line (all rows; numbers as JavaScript prints them). */
  toCsv(names: readonly C[] = this.names): string {
    const cols = names.map((n) => this.column(n));
    const lines = [names.map(csvField).join(',')];
    for (let r = 0; r < this.length; r++) lines.push(cols.map((c) => formatNumber(c[r])).join(','));
    return lines.join('\n') + '\n';
  }
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A float32 value printed with the digits it really has (no 0.30000001192092896). */
export function formatNumber(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '';
  if (Number.isInteger(x)) return String(x);
  return String(Number(x.toPrecision(7)));
}
