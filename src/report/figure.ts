/**
 * Figures as SVG, rendered in Node by vega (no browser, no canvas; loaded on first use): line
 * plots of a center line (the median over runs, or one run's values) with a shaded band (the
 * 10% and 90% quantiles over runs, or any lower and upper values), an optional log-scale y
 * axis, one panel per facet value (one per λ, as the papers draw them).
 */
import type { TopLevelSpec } from 'vega-lite'

export interface Series {
  /** The legend entry, e.g. "Stoch dec". */
  readonly name: string
  readonly x: ReadonlyArray<number>
  /** The line at each x: a median over runs, or the values of a single run. */
  readonly y: ReadonlyArray<number>
  /**
   * The shaded band at each x, from lo to hi (e.g. the 10% and 90% quantiles over runs);
   * omitted or empty for a deterministic series. A band whose ends are not both finite is not
   * drawn at that x.
   */
  readonly lo?: ReadonlyArray<number>
  readonly hi?: ReadonlyArray<number>
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
  y: number
  lo?: number
  hi?: number
}

/**
 * Flatten panels to rows. On a log axis, points with a non-positive y are dropped and a band
 * whose lower end is not positive is clipped at y/10³ (so that it still shows how far down
 * the runs spread); a band with an end that is not finite is left out at that x.
 */
export const figureRows = (panels: ReadonlyArray<Panel>, logY: boolean): Row[] => {
  const rows: Row[] = []
  for (const p of panels) {
    for (const s of p.series) {
      for (let i = 0; i < s.x.length; i++) {
        const y = s.y[i]!
        if (!Number.isFinite(y) || (logY && y <= 0)) continue
        const row: Row = { panel: p.title, series: s.name, x: s.x[i]!, y }
        const lo = s.lo?.[i]
        const hi = s.hi?.[i]
        if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi) && hi > lo) {
          row.lo = logY && lo <= 0 ? y * 1e-3 : lo
          row.hi = hi
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
            y: { field: 'y', type: 'quantitative', title: opts.yLabel, scale: yScale },
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
