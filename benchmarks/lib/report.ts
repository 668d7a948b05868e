import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where a figure came from: the same numbers mean little without the machine and its load. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average when the run started (other processes competing for the cores). */
  readonly loadAvgAtStart: number;
  readonly at: string;
}

export function machine(): MachineInfo {
  const c = os.cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAvgAtStart: Math.round(os.loadavg()[0]! * 100) / 100,
    at: new Date().toISOString(),
  };
}

/** Writes NAME-latest.json (and a timestamped copy) under outDir; returns the latest path. */
export function writeResult(outDir: string, name: string, data: unknown): string {
  mkdirSync(outDir, { recursive: true });
  const body = JSON.stringify(data, null, 2) + '\n';
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(path.join(outDir, `${name}-${stamp}.json`), body);
  const latest = path.join(outDir, `${name}-latest.json`);
  writeFileSync(latest, body);
  return latest;
}

export function writeText(outDir: string, file: string, body: string): string {
  mkdirSync(outDir, { recursive: true });
  const p = path.join(outDir, file);
  writeFileSync(p, body);
  return p;
}

/** A plain-text table with right-aligned numbers; also valid Markdown (for docs/performance.md). */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const w = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    `| ${r.map((c, i) => (isNumeric(c) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(' | ')} |`;
  return [line(headers), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

const isNumeric = (s: string): boolean => /^[-+]?[\d.,]+(e[-+]?\d+)?[%×x]?$/.test(s);

/** Numbers for humans: 3 significant digits, thousands unseparated. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 1 ? x.toFixed(2) : x.toFixed(3);
}

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A hand-written SVG line chart, log2 x axis (batch sizes), linear y from 0. No dependency. */
export function lineChartSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
): string {
  const W = 640;
  const H = 380;
  const m = { l: 70, r: 170, t: 40, b: 50 };
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const ymax = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.1;
  const lx = (x: number): number => Math.log2(Math.max(1, x));
  const x0 = lx(xs[0] ?? 1);
  const x1 = Math.max(x0 + 1, lx(xs[xs.length - 1] ?? 2));
  const px = (x: number): number => m.l + ((lx(x) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number): number => H - m.b - (y / ymax) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (const x of xs) {
    parts.push(
      `<line x1="${px(x)}" y1="${H - m.b}" x2="${px(x)}" y2="${H - m.b + 5}" stroke="black"/>`,
      `<text x="${px(x)}" y="${H - m.b + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const y = (ymax / 1.1) * (i / 5);
    parts.push(
      `<line x1="${m.l - 5}" y1="${py(y)}" x2="${W - m.r}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${m.l - 8}" y="${py(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    parts.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of pts)
      parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${c}"/>`);
    parts.push(
      `<rect x="${W - m.r + 12}" y="${m.t + i * 20}" width="12" height="3" fill="${c}"/>`,
      `<text x="${W - m.r + 30}" y="${m.t + i * 20 + 5}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
