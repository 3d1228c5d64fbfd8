/**
 * The sweep that iteration-complexity and the grazzi-* experiments share (Grazzi et al. 2020
 * §5): the error of ITD (reverse mode), AID-FP, AID-CG or AID-GMRES at every t = k of a grid,
 * all after t steps of the fixed-point iteration wᵢ₊₁ = Φ(wᵢ, λ) from w₀ = 0, against a truth.
 * The lower-level iterates are computed once up to the largest t; AID at t starts from the
 * stored wₜ with no further lower steps (the same result as t steps from 0: the iteration is
 * deterministic); ITD is run afresh for each t (its surrogate gradient depends on the whole
 * trajectory). Iterates at or after a divergence of the lower stream give diverged points.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import { itd } from '../hypergrad/itd.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { RVec, Vec } from '../linalg/types.js'
import { distance, norm } from '../linalg/vector.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { seed as rngSeed } from '../random/rng.js'
import { tap } from '../solvers/combinators.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { runLower } from '../solvers/run.js'
import type { LinearSolver } from '../solvers/types.js'
import { bandNote, bandSeries, finiteOrNull, fmtSpreadMean, spread, type Spread, type SweepTiming } from './common.js'
import type { Panel, Series } from '../report/figure.js'
import type { CsvRow, ExperimentOutput } from './types.js'
import { gmres } from './gmres.js'

/** The methods: ITD, and AID with the fixed-point, conjugate-gradient or GMRES linear solver. */
export type SweepMethod = 'itd' | 'aidFp' | 'aidCg' | 'aidGmres'

/** The legend label of each method. */
export const SWEEP_LABEL: Readonly<Record<SweepMethod, string>> = { itd: 'ITD (reverse)', aidFp: 'AID-FP', aidCg: 'AID-CG', aidGmres: 'AID-GMRES' }

/** One method at one t. */
export interface SweepPoint {
  readonly method: SweepMethod
  readonly t: number
  /** Linear-system steps actually run (a Krylov method may stop early, exact to rounding). */
  readonly k: number
  readonly error: number | null
  readonly relError: number | null
  readonly status: 'converged' | 'maxIter' | 'diverged'
}

const LINEAR: Readonly<Record<Exclude<SweepMethod, 'itd'>, () => LinearSolver>> = {
  aidFp: () => fixedPointLinear(),
  aidCg: () => conjugateGradient(),
  aidGmres: () => gmres(),
}

/**
 * The error of each method at every t of the grid on one instance, against the truth (see the
 * module comment for how the lower iterates are shared).
 */
export const errorsAgainstT = (
  problem: BilevelProblem,
  lambda: RVec,
  truth: RVec,
  iterations: ReadonlyArray<number>,
  methods: ReadonlyArray<SweepMethod>,
): E.Either<HypergradError, SweepPoint[]> => {
  const gNorm = norm(truth)
  const grid = [...new Set(iterations)].sort((a, b) => a - b)
  const maxT = grid[grid.length - 1] ?? 0
  const stored = new Map<number, Vec>()
  const wanted = new Set(grid)
  const keep = tap(fixedPointIteration(), (st) => {
    if (wanted.has(st.iter)) stored.set(st.iter, st.w)
  })
  const prefix = runLower(keep, problem, lambda, new Float64Array(problem.dim), rngSeed(0), { maxIter: maxT })
  if (E.isLeft(prefix)) return prefix
  const lowerDiverged = prefix.right.divergedAt ?? Infinity
  for (const tt of [...stored.keys()]) if (tt >= lowerDiverged) stored.delete(tt)
  const points: SweepPoint[] = []
  const record = (method: SweepMethod, tt: number, r: E.Either<HypergradError, HypergradResult> | undefined): E.Either<HypergradError, void> => {
    if (r !== undefined && E.isLeft(r) && r.left.kind !== 'divergence') return r
    const res = r !== undefined && E.isRight(r) ? r.right : undefined
    const ok = res !== undefined && res.status !== 'diverged'
    const err = ok ? distance(res.gradient, truth) : NaN
    points.push({ method, t: tt, k: res?.k ?? tt, error: finiteOrNull(err), relError: finiteOrNull(err / gNorm), status: ok && Number.isFinite(err) ? res.status : 'diverged' })
    return E.right(undefined)
  }
  for (const tt of grid)
    for (const m of methods) {
      const wt = stored.get(tt)
      const r =
        m === 'itd'
          ? itd(problem, lambda, { t: tt, mode: 'reverse' })
          : wt === undefined
            ? undefined
            : aid(problem, lambda, { lower: fixedPointIteration(), linear: LINEAR[m](), t: 0, k: tt, w0: wt })
      const done = record(m, tt, r)
      if (E.isLeft(done)) return done
    }
  return E.right(points)
}


/** What an instance of a sweep reports, for the tables and figures. */
export interface SweepInstance {
  readonly run: number
  readonly q: number
  readonly kappa: number
  readonly gradNorm: number
  readonly points: ReadonlyArray<SweepPoint>
}

/**
 * The bands of a sweep over instances: per method the spread of the relative error at each t
 * (a diverged or missing point counts as unbounded), as a figure series (median line, 10–90%
 * band), the summary cell at the largest t, and the aggregate for results.json.
 */
export const sweepBands = (
  grid: ReadonlyArray<number>,
  methods: ReadonlyArray<SweepMethod>,
  instances: ReadonlyArray<SweepInstance>,
): { readonly series: Series[]; readonly cells: string[]; readonly aggregate: Array<{ readonly method: SweepMethod; readonly t: ReadonlyArray<number>; readonly relError: Spread[] }> } => {
  const series: Series[] = []
  const cells: string[] = []
  const aggregate: Array<{ readonly method: SweepMethod; readonly t: ReadonlyArray<number>; readonly relError: Spread[] }> = []
  for (const m of methods) {
    const at = grid.map((tt) => spread(instances.map((r) => r.points.find((q) => q.method === m && q.t === tt)?.relError ?? null), 'unbounded'))
    series.push(bandSeries(SWEEP_LABEL[m], grid, at, true))
    cells.push(`${SWEEP_LABEL[m]} ${fmtSpreadMean(at[at.length - 1]!)}`)
    aggregate.push({ method: m, t: grid, relError: at })
  }
  return { series, cells, aggregate }
}

/** results.csv of a sweep: one row per instance × method × t. */
export const sweepRows = (experiment: string, instances: ReadonlyArray<SweepInstance>): CsvRow[] =>
  instances.flatMap((r) =>
    r.points.map((pt) => ({ experiment, run: r.run, q: r.q, kappa: finiteOrNull(r.kappa), method: pt.method, t: pt.t, k: pt.k, error: pt.error, rel_error: pt.relError, true_grad_norm: r.gradNorm, status: pt.status })),
  )

/**
 * The output of a sweep over instances of one problem (the grazzi-* experiments): results.csv
 * (`sweepRows`), one figure of the relative error against t = k titled `title` and the band
 * note, and the summary at the largest t (the `cells` of `sweepBands`, then `notes`).
 */
export const sweepOutput = <C extends { readonly runs: number }>(
  name: string,
  config: C,
  results: ReadonlyArray<SweepInstance & { readonly seconds: number }>,
  view: {
    readonly grid: ReadonlyArray<number>
    readonly panels: Panel[]
    readonly title: string
    readonly shape: string
    readonly cells: ReadonlyArray<string>
    readonly aggregate: unknown
    readonly notes?: ReadonlyArray<string>
  },
  timing: SweepTiming,
): ExperimentOutput<C> => ({
  experiment: name,
  config,
  rows: sweepRows(name, results),
  figures: [
    {
      file: `${name}.svg`,
      panels: view.panels,
      options: { title: `${view.title}; ${bandNote(config.runs, 'instance')}`, xLabel: 't = k (iterations)', yLabel: '‖∇̂f − ∇f‖ / ‖∇f‖', logY: true, width: 420, height: 280 },
    },
  ],
  summary: [
    `${name}: relative error ‖∇̂f − ∇f‖/‖∇f‖ at t = k = ${view.grid[view.grid.length - 1]}: median [10%, 90%] over ${config.runs} instances, and the mean (${view.shape})`,
    view.cells.join(' | '),
    ...(view.notes ?? []),
  ].join('\n'),
  details: { aggregate: view.aggregate, tasks: results.map(({ seconds: _s, ...rest }) => rest) },
  timing: { ...timing, taskSeconds: results.map((r) => r.seconds) },
})
