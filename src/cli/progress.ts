/**
 * A progress bar on stderr for long runs, drawn only on a terminal (never into
 * logs or pipes) and at most ten times a second.
 */
export class ProgressBar {
  private readonly label: string;
  private readonly total: number;
  private readonly out: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private lastDraw = 0;
  private done = 0;

  constructor(label: string, total: number, out: NodeJS.WriteStream = process.stderr) {
    this.label = label;
    this.total = total;
    this.out = out;
    // Short runs finish before a bar would be any help.
    this.enabled = Boolean(out.isTTY) && total >= 50;
  }

  tick(): void {
    this.done++;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    this.out.write(
      `\r${this.label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${this.done}/${this.total}`,
    );
  }

  finish(): void {
    if (this.enabled) this.out.write('\r\x1b[K');
  }
}
