/// <reference lib="dom" />
// The script of the HTML reports, run by the browser: it draws each chart the page's data describes with uPlot
// (inlined beside it) and redraws them when the window or the print layout changes width. page.ts puts this
// function's source into the page, so it must be self-contained: no imports at run time, no module-level names.
// Every number was prepared in Node (binned, sorted, aligned); this only draws.
import type uPlot from 'uplot';
import type { ChartSpec, ReportData, SeriesSpec } from './spec.js';

/** Draws every chart; marks each figure with data-points (values drawn) and the page with data-charts-ready. */
export function renderCharts(U: typeof uPlot, data: ReportData): void {
  const DEFAULT_HEIGHT = 220;
  const MIN_WIDTH = 260;
  const dpr = () => window.devicePixelRatio || 1;
  const fmt = (v: number | null | undefined): string => {
    if (v === null || v === undefined || !Number.isFinite(v)) return '–';
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
  };

  const seriesOf = (s: SeriesSpec): uPlot.Series => {
    const base: uPlot.Series = { label: s.label, stroke: s.color, scale: s.axis === 'y2' ? 'y2' : 'y', value: (_u, v) => fmt(v) };
    if (s.dash) base.dash = [...s.dash];
    const size = s.pointSize ?? 5;
    switch (s.kind) {
      case 'points':
        return { ...base, width: 0, paths: () => null, points: { show: true, size, width: 1.25, stroke: s.color, fill: s.hollow ? '#ffffff' : s.color } };
      case 'bars':
        return { ...base, width: 1, fill: `${s.color}b3`, paths: U.paths.bars!({ size: [0.92, Infinity] }), points: { show: false } };
      case 'step':
        return { ...base, width: 1.5, spanGaps: !!s.spanGaps, paths: U.paths.stepped!({ align: 1 }), points: { show: false } };
      default:
        return {
          ...base,
          width: 1.75,
          spanGaps: !!s.spanGaps,
          points: s.markers ? { show: true, size: size + 2, width: 1.5, stroke: s.color, fill: s.color } : { show: false },
        };
    }
  };

  const rangeOf =
    (fixed: readonly [number | null, number | null] | undefined) =>
    (_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
      let lo = fixed?.[0] ?? min ?? 0;
      let hi = fixed?.[1] ?? max ?? 1;
      if (hi <= lo) {
        const pad = Math.abs(lo) * 0.1 || 1;
        if (fixed?.[0] == null) lo -= pad;
        hi = lo + 2 * pad;
      } else if (fixed?.[1] == null) hi += (hi - lo) * 0.05;
      if (fixed?.[0] == null && lo !== 0) lo -= (hi - lo) * 0.04;
      return [lo, hi];
    };

  /** Bars need half a bin of room at each end of x; a lone x gets a unit around it. */
  const xRange = (spec: ChartSpec) => (_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
    const x = spec.x;
    let lo = min ?? 0;
    let hi = max ?? 1;
    const bars = spec.series.some((s) => s.kind === 'bars');
    let step = Infinity;
    for (let i = 1; i < x.length; i++) if (x[i] > x[i - 1]) step = Math.min(step, x[i] - x[i - 1]);
    if (!Number.isFinite(step)) step = Math.abs(lo) * 0.2 || 1;
    if (bars || hi === lo) return [lo - step / 2, hi + step / 2];
    const pad = spec.pointLabels ? (hi - lo) * 0.06 : 0;
    lo -= pad;
    hi += pad;
    return [lo, hi];
  };

  const drawLabels = (spec: ChartSpec) => (u: uPlot) => {
    const labels = spec.pointLabels;
    const ys = u.data[1];
    if (!labels || !ys) return;
    const ctx = u.ctx;
    const r = dpr();
    ctx.save();
    ctx.font = `${Math.round(11 * r)}px system-ui, sans-serif`;
    ctx.fillStyle = '#1a1a1a';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    // Each label beside its point, at the first of four places (right or left, above or below) that overlaps no
    // label drawn before it and stays inside the plot; the first place when none is free.
    const placed: [number, number, number, number][] = [];
    const h = 12 * r;
    const gap = 6 * r;
    const { left, top, width, height } = u.bbox;
    for (let i = 0; i < labels.length; i++) {
      const text = labels[i];
      const y = ys[i];
      if (!text || y === null || y === undefined) continue;
      const cx = u.valToPos(u.data[0][i], 'x', true);
      const cy = u.valToPos(y, 'y', true);
      const w = ctx.measureText(text).width;
      const spots: [number, number][] = [
        [cx + gap, cy - 2 * r],
        [cx + gap, cy + h + 2 * r],
        [cx - gap - w, cy - 2 * r],
        [cx - gap - w, cy + h + 2 * r],
      ];
      const inside = ([x, b]: [number, number]) => x >= left && x + w <= left + width && b - h >= top && b <= top + height;
      const clear = ([x, b]: [number, number]) => placed.every(([px, pb, pw, ph]) => x + w <= px || px + pw <= x || b <= pb - ph || pb <= b - h);
      const spot = spots.find((p) => inside(p) && clear(p)) ?? spots.find(inside) ?? spots[0];
      placed.push([spot[0], spot[1], w, h]);
      ctx.fillText(text, spot[0], spot[1]);
    }
    ctx.restore();
  };

  const charts: { spec: ChartSpec; u: uPlot; plot: HTMLElement }[] = [];
  const widthOf = (plot: HTMLElement) => Math.max(MIN_WIDTH, Math.floor(plot.clientWidth || plot.getBoundingClientRect().width));

  for (const spec of data.charts) {
    const fig = document.getElementById(spec.id);
    const plot = fig?.querySelector<HTMLElement>('.plot');
    if (!fig || !plot) continue;
    const axes: uPlot.Axis[] = [
      { label: spec.xLabel, labelSize: 18, size: 36 },
      { label: spec.yLabel, labelSize: 18, scale: 'y', size: 56 },
    ];
    const scales: uPlot.Scales = { x: { time: false, range: xRange(spec) }, y: { range: rangeOf(spec.yRange) } };
    if (spec.y2Label) {
      axes.push({ label: spec.y2Label, labelSize: 18, scale: 'y2', side: 1, size: 56, grid: { show: false } });
      scales.y2 = { range: rangeOf(spec.y2Range) };
    }
    let points = 0;
    for (const s of spec.series) for (const v of s.values) if (v !== null) points++;
    const opts: uPlot.Options = {
      width: widthOf(plot),
      height: spec.height ?? DEFAULT_HEIGHT,
      scales,
      axes,
      series: [{ label: spec.xLabel, value: (_u, v) => fmt(v) }, ...spec.series.map(seriesOf)],
      cursor: { drag: { x: true, y: false } },
      legend: { show: true },
      hooks: spec.pointLabels ? { draw: [drawLabels(spec)] } : {},
    };
    const aligned = [spec.x, ...spec.series.map((s) => s.values)] as unknown as uPlot.AlignedData;
    const u = new U(opts, aligned, plot);
    fig.setAttribute('data-points', String(points));
    charts.push({ spec, u, plot });
  }

  let pending = 0;
  const resize = () => {
    for (const c of charts) {
      const w = widthOf(c.plot);
      if (Math.abs(w - c.u.width) > 2) c.u.setSize({ width: w, height: c.spec.height ?? DEFAULT_HEIGHT });
    }
  };
  window.addEventListener('resize', () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(resize, 100);
  });
  window.addEventListener('beforeprint', resize);
  window.addEventListener('afterprint', resize);
  (window as unknown as { gbCharts: unknown }).gbCharts = charts.map((c) => ({ id: c.spec.id, u: c.u }));
  document.documentElement.setAttribute('data-charts-ready', String(charts.length));
}
