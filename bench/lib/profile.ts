/**
 * Where a --cpu-prof profile's time went: self time by area (our folders, each
 * dependency, Node internals, GC, idle), the hottest functions, and inclusive time
 * of our own functions.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly startTime: number;
  readonly endTime: number;
}

function area(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep) return dep[1]!;
  const own = /\/(src|bench)\/([^/]+)\//.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  const ownFile = /\/(src|bench)\/([^/]+)$/.exec(url);
  if (ownFile) return `${ownFile[1]}/${ownFile[2]}`;
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' ? parts.slice(0, 2).join('/') : parts[0]}`;
  }
  return url;
}

function label(frame: ProfileNode['callFrame']): string {
  const file = frame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/').replace(/^file:\/\//, '');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

export function summariseProfile(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;

  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, t] of self) {
    const frame = byId.get(id)!.callFrame;
    areas.set(area(frame), (areas.get(area(frame)) ?? 0) + t);
    functions.set(label(frame), (functions.get(label(frame)) ?? 0) + t);
  }

  // Inclusive time of our own functions (a function's time counted once per stack).
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const node = byId.get(id)!;
    let t = self.get(id) ?? 0;
    const name = /\/(src)\//.test(node.callFrame.url) ? label(node.callFrame) : null;
    const fresh = name !== null && !onStack.has(name);
    if (fresh) onStack.add(name);
    for (const child of node.children ?? []) t += walk(child, onStack);
    if (fresh) {
      onStack.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + t);
    }
    return t;
  };
  walk(profile.nodes[0]!.id, new Set());

  const pct = (t: number) => `${((t / busy) * 100).toFixed(1).padStart(5)}%`;
  const ms = (t: number) => `${(t / 1000).toFixed(0).padStart(7)} ms`;
  const rows = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .filter(([k]) => k !== '(idle)' && k !== '(idle) (native):0')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, t]) => `  ${ms(t)} ${pct(t)}  ${k}`);
  return [
    `profile ${file}`,
    `wall ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (percentages are of busy time)`,
    '',
    'self time by area:',
    ...rows(areas, 30),
    '',
    `hottest functions (self time), top ${top}:`,
    ...rows(functions, top),
    '',
    'inclusive time of src/ functions, top 25:',
    ...rows(inclusive, 25),
    '',
  ].join('\n');
}
