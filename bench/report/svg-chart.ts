/** Dependency-free SVG renderer for latency CDFs, so `npm run bench` can emit a chart next to its markdown table. */

export interface LatencySeries {
  label: string;
  samplesMs: number[];
}

// Okabe–Ito palette: stays distinguishable under common colour blindness; yellow last as it is faint on white.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#000000', '#F0E442'];
const MAX_STEPS = 200; // each step is two vertices, so a line stays near 400 points
const CHAR_W = 6.8; // rough width of a 12px sans-serif glyph, only used to size the legend
const GRID = ' stroke="#ddd"';
const MINOR = ' stroke="#f2f2f2"';
const NO_SAMPLES = ' (no samples)';
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Plot area in px plus the x range as whole log10 decades. */
interface Frame {
  left: number;
  top: number;
  w: number;
  h: number;
  lo: number;
  hi: number;
}

const num = (v: number): string => String(Math.round(v * 10) / 10);
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
const text = (x: number, y: number, s: string, attrs = ''): string => `<text x="${num(x)}" y="${num(y)}"${attrs}>${esc(s)}</text>`;
const line = (x1: number, y1: number, x2: number, y2: number, attrs: string): string =>
  `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}"${attrs}/>`;

// Non-positive samples have no logarithm, so they are pinned to the left edge of the axis.
const xOf = (f: Frame, ms: number): number => f.left + ((Math.log10(Math.max(ms, 10 ** f.lo)) - f.lo) / (f.hi - f.lo)) * f.w;
const yOf = (f: Frame, share: number): number => f.top + (1 - share) * f.h;
// Nearest-rank quantile: always a real sample, so the marker sits on the step line.
const quantile = (sorted: number[], q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
const decadeLabel = (d: number): string => (d < 0 ? (10 ** d).toFixed(-d) : String(10 ** d));
// NaN and Infinity are not measurements; a series with nothing else counts as empty.
const finite = (s: LatencySeries): number[] => s.samplesMs.filter((v) => v < Infinity);
const truncate = (s: string, max: number): string => (s.length > max ? `${s.slice(0, Math.max(1, max - 1))}…` : s);

/** Whole-decade range covering every positive sample; the epsilon stops log10 noise pushing exact powers of ten a decade out. */
function decadeRange(series: LatencySeries[]): [number, number] {
  let min = Infinity;
  let max = 0;
  for (const s of series) {
    for (const v of s.samplesMs) {
      if (v > 0 && v < Infinity) [min, max] = [Math.min(min, v), Math.max(max, v)];
    }
  }
  if (min === Infinity) return [-2, 0]; // nothing positive to place: show 0.01..1 ms
  const lo = Math.floor(Math.log10(min) + 1e-9);
  return [lo, Math.max(lo + 1, Math.ceil(Math.log10(max) - 1e-9))];
}

/** Empirical CDF as a step polyline, thinned to evenly spaced ranks; the first and last rank are kept so min and max stay exact. */
function cdfPoints(f: Frame, sorted: number[]): string {
  const n = sorted.length;
  const k = Math.min(n, MAX_STEPS);
  let prevY = yOf(f, 0);
  const pts = [`${num(xOf(f, sorted[0]))},${num(prevY)}`];
  for (let j = 0; j < k; j++) {
    const i = k === 1 ? n - 1 : Math.round((j * (n - 1)) / (k - 1));
    const x = num(xOf(f, sorted[i]));
    const y = yOf(f, (i + 1) / n);
    pts.push(`${x},${num(prevY)}`, `${x},${num(y)}`);
    prevY = y;
  }
  return pts.filter((p, idx) => p !== pts[idx - 1]).join(' ');
}

/** p50 is a circle and p99 a square so they stay apart where lines share a colour family. */
function marker(kind: 'p50' | 'p99', x: number, y: number, colour: string, tip: string): string {
  const paint = ` fill="${colour}" stroke="#fff" stroke-width="1"`;
  const shape =
    kind === 'p50'
      ? `<circle cx="${num(x)}" cy="${num(y)}" r="4"${paint}>`
      : `<rect x="${num(x - 3.5)}" y="${num(y - 3.5)}" width="7" height="7"${paint}>`;
  return `${shape}<title>${esc(tip)}</title></${kind === 'p50' ? 'circle' : 'rect'}>`;
}

function axes(f: Frame): string[] {
  const out: string[] = [];
  const bottom = f.top + f.h;
  for (let d = f.lo; d <= f.hi; d++) {
    for (let m = 2; d < f.hi && m < 10; m++) out.push(line(xOf(f, m * 10 ** d), f.top, xOf(f, m * 10 ** d), bottom, MINOR));
  }
  for (let d = f.lo; d <= f.hi; d++) {
    const x = xOf(f, 10 ** d);
    out.push(line(x, f.top, x, bottom, GRID), text(x, bottom + 16, decadeLabel(d), ' text-anchor="middle"'));
  }
  for (let p = 0; p <= 100; p += 25) {
    const y = yOf(f, p / 100);
    out.push(line(f.left, y, f.left + f.w, y, GRID), text(f.left - 6, y + 4, `${p}%`, ' text-anchor="end"'));
  }
  out.push(
    `<rect x="${num(f.left)}" y="${num(f.top)}" width="${num(f.w)}" height="${num(f.h)}" fill="none" stroke="#333"/>`,
    text(f.left + f.w / 2, bottom + 36, 'handoff wait (ms, log scale)', ' text-anchor="middle"'),
    text(-(f.top + f.h / 2), f.left - 44, 'share of handoffs (%)', ' transform="rotate(-90)" text-anchor="middle"'),
  );
  return out;
}

function legend(series: LatencySeries[], x: number, y: number, maxChars: number): string[] {
  const out = series.map((s, i) => {
    const rowY = y + i * 18;
    const empty = finite(s).length === 0;
    const label = empty ? truncate(s.label, maxChars - NO_SAMPLES.length) + NO_SAMPLES : truncate(s.label, maxChars);
    return line(x, rowY, x + 20, rowY, ` stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2.5"`) + text(x + 26, rowY + 4, label);
  });
  const keyY = y + series.length * 18 + 8;
  out.push(marker('p50', x + 4, keyY, '#666', 'p50'), text(x + 12, keyY + 4, 'p50'), marker('p99', x + 44, keyY, '#666', 'p99'));
  out.push(text(x + 52, keyY + 4, 'p99'));
  return out;
}

function seriesMarks(f: Frame, s: LatencySeries, colour: string): string[] {
  const sorted = finite(s).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const [p50, p99] = [quantile(sorted, 0.5), quantile(sorted, 0.99)];
  const tip = (q: string, v: number): string => `${s.label} ${q}: ${Number(v.toPrecision(3))} ms`;
  return [
    `<polyline fill="none" stroke="${colour}" stroke-width="1.8" stroke-linejoin="round" points="${cdfPoints(f, sorted)}"/>`,
    marker('p50', xOf(f, p50), yOf(f, 0.5), colour, tip('p50', p50)),
    marker('p99', xOf(f, p99), yOf(f, 0.99), colour, tip('p99', p99)),
  ];
}

/** An SVG document (a string) plotting each series' empirical CDF: x = latency in ms on a log10 axis, y = share of samples 0..100 %. */
export function renderLatencyCdf(series: LatencySeries[], options: { title: string; width?: number; height?: number }): string {
  const { title, width = 800, height = 440 } = options;
  const longest = Math.max(3, ...series.map((s) => s.label.length + (finite(s).length ? 0 : NO_SAMPLES.length)));
  const maxChars = Math.min(longest, Math.floor((width * 0.4 - 46) / CHAR_W));
  const legendW = 46 + maxChars * CHAR_W;
  const [lo, hi] = decadeRange(series);
  const f: Frame = { left: 64, top: 44, w: Math.max(100, width - 64 - legendW - 12), h: Math.max(100, height - 44 - 52), lo, hi };
  const body = [
    `<rect width="100%" height="100%" fill="#fff"/>`,
    text(width / 2, 26, title, ' text-anchor="middle" font-size="16" font-weight="bold"'),
    ...axes(f),
    ...series.flatMap((s, i) => seriesMarks(f, s, PALETTE[i % PALETTE.length])),
    ...legend(series, f.left + f.w + 16, f.top + 8, maxChars),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
      ' font-family="sans-serif" font-size="12">',
    `<title>${esc(title)}</title>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
