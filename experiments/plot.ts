// Plots for `npm run experiments`: one vega-lite chart per task, rendered to SVG in Node with vega's headless
// View (renderer 'none' + toSVG: no canvas, no browser). Layout: one row per environment (simulator, loopback:
// their time scales differ by orders of magnitude, so each row has its own y scale), and within a row the two
// modes side by side (independent | lockstep) on a shared y scale, so the modes compare at a glance.

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { MODES, type Mode } from '../src/core/options.js';

export type Env = 'simulator' | 'loopback';

export interface PlotRow {
  env: Env;
  mode: Mode;
  x: number;
  series: string;
  /** Seconds. */
  y: number;
  /** Min and max over the runs (measured series only). */
  lo?: number;
  hi?: number;
}

export interface PlotInput {
  title: string;
  subtitle: string[];
  xTitle: string;
  xLog: boolean;
  xValues: number[];
  xFormat?: string;
  /** One row of panels per environment that has data, in this order. */
  envs: Array<{ env: Env; title: string; rows: PlotRow[] }>;
}

export const SERIES = {
  simulator: 'simulator: median of runs (bars: min-max)',
  loopback: 'loopback: median of runs (bars: min-max)',
  analytic: 'analytic, fixed RTO: E[delay] (independent: of one receiver)',
  slowest: 'analytic, independent: E[slowest of the n receivers] (normal approximation)',
} as const;

const DOMAIN = [SERIES.simulator, SERIES.loopback, SERIES.analytic, SERIES.slowest];
const COLORS = { domain: DOMAIN, range: ['#1f77b4', '#d62728', '#555555', '#999999'] };
const DASHES = { domain: DOMAIN, range: [[1, 0], [1, 0], [6, 4], [2, 2]] };

export function chartSpec(p: PlotInput): TopLevelSpec {
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: p.xTitle,
    scale: p.xLog ? { type: 'log' as const, domain: [p.xValues[0]!, p.xValues[p.xValues.length - 1]!] } : { zero: false, nice: false, domain: [p.xValues[0]!, p.xValues[p.xValues.length - 1]!] },
    axis: { values: p.xValues, ...(p.xFormat ? { format: p.xFormat } : {}), labelFlush: true },
  };
  // Color and dash encode the same field with the same legend, so vega-lite merges them into one legend.
  const legend = { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 0, symbolType: 'stroke', symbolSize: 300 };
  const color = { field: 'series', type: 'nominal' as const, title: null, scale: COLORS, legend };
  const strokeDash = { field: 'series', type: 'nominal' as const, title: null, scale: DASHES, legend };
  const rows = p.envs.map((e) => ({
    title: { text: e.title, anchor: 'start' as const, fontSize: 12 },
    data: { values: e.rows },
    facet: {
      column: { field: 'mode', type: 'nominal' as const, title: null, sort: [...MODES], header: { labelFontSize: 12, labelFontWeight: 'bold' as const } },
    },
    spec: {
      width: 300,
      height: 210,
      layer: [
        {
          transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }],
          mark: { type: 'rule' as const, strokeWidth: 1.5 },
          encoding: { x, y: { field: 'lo', type: 'quantitative' as const }, y2: { field: 'hi' }, color },
        },
        // The analytical lines first, the measured ones on top (in the simulator they often coincide).
        ...[false, true].map((measured) => ({
          transform: [{ filter: `${measured ? '!' : ''}test(/^analytic/, datum.series)` }],
          mark: { type: 'line' as const, point: { size: measured ? 30 : 14 }, strokeWidth: measured ? 1.5 : 3, opacity: measured ? 1 : 0.7 },
          encoding: {
            x,
            y: { field: 'y', type: 'quantitative' as const, title: 'delay (s)' },
            color,
            strokeDash,
          },
        })),
      ],
    },
    resolve: { scale: { y: 'shared' as const } },
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: p.title, subtitle: p.subtitle, anchor: 'start', fontSize: 15, subtitleFontSize: 11 },
    background: 'white',
    padding: 12,
    config: { font: 'sans-serif', view: { stroke: '#ccc' }, legend: { labelLimit: 0 } },
    vconcat: rows,
    resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
  };
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
