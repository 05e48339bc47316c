/** Summary statistics for benchmark samples. */

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile (0..1) by linear interpolation between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Milliseconds since an arbitrary origin shared by processes on this machine (wall clock, sub-ms). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
