// Progress for long commands. On a terminal: one bar per item (per layer of
// a model pull), redrawn in place. Elsewhere (CI logs, pipes): plain lines,
// one per status change and per 25% of an item, so logs stay short.

export type ProgressOutput = { isTTY?: boolean; columns?: number; write(s: string): unknown };

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

type Item = { label: string; done: number; total: number; lastStep: number };

/** Bars keyed by id (a layer digest), plus status lines. */
export class ProgressBars {
  private readonly items = new Map<string, Item>();
  private readonly order: string[] = [];
  private lastStatus = '';

  constructor(private readonly out: ProgressOutput) {}

  private line(item: Item): string {
    const pct = item.total > 0 ? item.done / item.total : 0;
    return `${item.label}  ${bar(pct, 30)} ${String(Math.floor(pct * 100)).padStart(3)}%  ${formatBytes(item.done)}/${formatBytes(item.total)}`;
  }

  /** A status without bytes ("pulling manifest", "verifying sha256 digest"). */
  status(text: string): void {
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.out.write(`${text}\n`);
    if (this.out.isTTY) this.order.length = 0; // bars above a status line are final
  }

  update(id: string, label: string, done: number, total: number): void {
    let item = this.items.get(id);
    if (!item) {
      item = { label, done, total, lastStep: -1 };
      this.items.set(id, item);
      if (this.out.isTTY) {
        this.order.push(id);
        this.out.write(`${this.line(item)}\n`);
        return;
      }
    }
    item.done = done;
    item.total = total;
    if (this.out.isTTY) {
      const up = this.order.length - this.order.indexOf(id);
      if (up > this.order.length) return;
      // Up to the bar's line, rewrite it, back down.
      this.out.write(`\x1b[${up}A\r\x1b[2K${this.line(item)}\x1b[${up}B\r`);
      return;
    }
    const step = total > 0 ? Math.floor((done / total) * 4) : 0;
    if (step !== item.lastStep) {
      item.lastStep = step;
      this.out.write(`${label} ${step * 25}% of ${formatBytes(total)}\n`);
    }
  }
}

/** A single counter ("reindexing 120/400"), redrawn on a terminal, every 10% otherwise. */
export class ProgressCounter {
  private lastTenth = -1;

  constructor(
    private readonly out: ProgressOutput,
    private readonly label: string,
  ) {}

  update(done: number, total: number): void {
    const f = total > 0 ? done / total : 1;
    if (this.out.isTTY) {
      this.out.write(
        `\r\x1b[2K${this.label} ${bar(f, 30)} ${done}/${total}${done >= total ? '\n' : ''}`,
      );
      return;
    }
    const tenth = Math.floor(f * 10);
    if (tenth !== this.lastTenth) {
      this.lastTenth = tenth;
      this.out.write(`${this.label} ${done}/${total}\n`);
    }
  }
}
