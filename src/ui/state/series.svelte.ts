// A table of numbers that grows one row at a time (a metric per column, one row per method step,
// reward-model update or gold evaluation). Columns are Float32Arrays that double when full, so a
// 1000-iteration run costs a few kilobytes and no per-row objects; only `length` (and `generation`)
// is reactive, and components that draw the series read it to know when to redraw. A method's
// metrics are named by the worker, so a column can be added when a row first names it (earlier
// rows read NaN there).

export class Series {
  /** Rows held; reading it subscribes a component or effect to new rows. */
  length = $state(0);
  /** Bumped by clear(): a chart that drew old rows starts again. */
  generation = $state(0);
  private readonly order: string[];
  private columns: Float32Array[];

  constructor(names: readonly string[], capacity = 256) {
    this.order = names.filter((n, i) => names.indexOf(n) === i);
    this.columns = this.order.map(() => new Float32Array(capacity).fill(NaN));
  }

  /** Column names in the order they were added. */
  get names(): readonly string[] {
    return this.order;
  }

  has(name: string): boolean {
    return this.order.includes(name);
  }

  /** Adds an empty column (NaN in every row so far); does nothing if it exists. */
  addColumn(name: string): void {
    if (this.has(name)) return;
    this.order.push(name);
    this.columns.push(new Float32Array(this.columns[0]?.length ?? 256).fill(NaN));
  }

  /** Appends one row: values in the order of `names`. */
  push(row: ArrayLike<number>): void {
    if (row.length !== this.order.length) throw new RangeError(`a row of ${row.length} values for ${this.order.length} columns`);
    const n = this.length;
    if (n === this.columns[0].length) {
      this.columns = this.columns.map((c) => {
        const bigger = new Float32Array(c.length * 2).fill(NaN);
        bigger.set(c);
        return bigger;
      });
    }
    this.columns.forEach((c, i) => (c[n] = row[i]));
    this.length = n + 1;
  }

  /** Appends a row given by name: names the series lacks become columns, missing names are NaN. */
  pushRecord(record: Readonly<Record<string, number>>): void {
    for (const name of Object.keys(record)) this.addColumn(name);
    this.push(this.order.map((name) => record[name] ?? NaN));
  }

  /** The values of one column so far (a view: copy it to keep it); all NaN for a column not seen yet. */
  column(name: string): Float32Array {
    const i = this.order.indexOf(name);
    if (i < 0) return new Float32Array(this.length).fill(NaN);
    return this.columns[i].subarray(0, this.length);
  }

  /** The last value of a column, or NaN with no rows. */
  last(name: string): number {
    return this.length === 0 ? NaN : this.column(name)[this.length - 1];
  }

  /** Drops the rows after the last one whose `name` is at most `max` (a run restored from a checkpoint goes on from there). */
  keepUpTo(name: string, max: number): void {
    const x = this.column(name);
    let n = this.length;
    while (n > 0 && !(x[n - 1] <= max)) n -= 1;
    if (n === this.length) return;
    this.columns.forEach((c) => c.fill(NaN, n));
    this.length = n;
    this.generation += 1;
  }

  clear(): void {
    this.length = 0;
    this.columns.forEach((c) => c.fill(NaN));
    this.generation += 1;
  }

  /** The chosen columns as CSV with a header line (all rows; numbers as JavaScript prints them). */
  toCsv(names: readonly string[] = this.order): string {
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
