/**
 * Figures as SVG, rendered in Node by vega (no browser, no canvas; loaded on first use): line plots of a mean
 * with a shaded ±1 standard-deviation band, an optional log-scale y axis, one panel per
 * facet value (one per λ, as the papers draw them).
 */
import type { TopLevelSpec } from 'vega-lite'

export interface Series {
  /** The legend entry, e.g. "Stoch dec". */
  readonly name: string
  readonly x: ReadonlyArray<number>
  readonly mean: ReadonlyArray<number>
  /** Standard deviation at each x; omitted or empty for a deterministic series. */
  readonly std?: ReadonlyArray<number>
  /** Draw as points on top of the line (e.g. for sparse series). */
  readonly points?: boolean
}

export interface Panel {
  readonly title: string
  readonly series: ReadonlyArray<Series>
}

export interface FigureOptions {
  readonly title?: string
  readonly xLabel: string
  readonly yLabel: string
  readonly logX?: boolean
  readonly logY?: boolean
  /** Panels per row (default: all in one row up to 4). */
  readonly columns?: number
  readonly width?: number
  readonly height?: number
}

interface Row {
  panel: string
  series: string
  x: number
  mean: number
  lo?: number
  hi?: number
}

/** Flatten panels to rows; on a log axis, non-positive values are dropped and bands clipped. */
export const figureRows = (panels: ReadonlyArray<Panel>, logY: boolean): Row[] => {
  const rows: Row[] = []
  for (const p of panels) {
    for (const s of p.series) {
      for (let i = 0; i < s.x.length; i++) {
        const mean = s.mean[i]!
        if (!Number.isFinite(mean) || (logY && mean <= 0)) continue
        const row: Row = { panel: p.title, series: s.name, x: s.x[i]!, mean }
        const sd = s.std?.[i]
        if (sd !== undefined && Number.isFinite(sd) && sd > 0) {
          const lo = mean - sd
          row.lo = logY ? Math.max(lo, mean * 1e-3) : lo
          row.hi = mean + sd
        }
        rows.push(row)
      }
    }
  }
  return rows
}

/** Render a line figure to an SVG string. */
export const lineFigure = async (panels: ReadonlyArray<Panel>, opts: FigureOptions): Promise<string> => {
  const logY = opts.logY ?? false
  const rows = figureRows(panels, logY)
  const columns = opts.columns ?? Math.min(4, Math.max(1, panels.length))
  const xScale = opts.logX ? { type: 'log' as const } : { zero: false }
  const yScale = logY ? { type: 'log' as const } : { zero: false }
  const color = { field: 'series', type: 'nominal' as const, title: null }
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title !== undefined ? { title: opts.title } : {}),
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels.map((p) => p.title) },
    columns,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: opts.width ?? 260,
      height: opts.height ?? 200,
      layer: [
        {
          mark: { type: 'area', opacity: 0.2 },
          transform: [{ filter: 'isValid(datum.lo)' }],
          encoding: {
            x: { field: 'x', type: 'quantitative', title: opts.xLabel, scale: xScale },
            y: { field: 'lo', type: 'quantitative', title: opts.yLabel, scale: yScale },
            y2: { field: 'hi' },
            color,
          },
        },
        {
          mark: { type: 'line', point: panels.some((p) => p.series.some((s) => s.points === true)) },
          encoding: {
            x: { field: 'x', type: 'quantitative', title: opts.xLabel, scale: xScale },
            y: { field: 'mean', type: 'quantitative', title: opts.yLabel, scale: yScale },
            color,
          },
        },
      ],
    },
  }
  // Loaded on first use: vega is large, and most programs that import the library draw nothing.
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')])
  const compiled = vl.compile(spec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' })
  const svg = await view.toSVG()
  view.finalize()
  return svg
}
