/** `hypergrad tune CONFIG.json`: bilevel optimization of λ with the configured hypergradient method. */
import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Dataset } from '../data/dataset.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import { aidAdaptive } from '../outer/adaptive.js'
import { tune, type HyperOracle, type TuneStep } from '../outer/tune.js'
import { toCsv } from '../report/csv.js'
import { lineFigure } from '../report/figure.js'
import { build, problemFor } from './build.js'
import { decodeTuneConfig, type TuneConfig } from './config.js'
import { aPosterioriAt } from './estimate.js'
import { must, readJson, type Progress } from './io.js'
import { aidSolvers, runMethod } from './methods.js'

export interface TuneOutput {
  readonly lambda: number | number[]
  readonly value: number | null
  readonly status: string
  readonly seconds: number
  readonly trajectory: ReadonlyArray<TuneStep>
}

/** Logistic loss and accuracy of the linear classifier w on a ±1-labelled set. */
export const classifierMetrics = (ds: Dataset, w: RVec): { loss: number; accuracy: number } => {
  const { rows, cols, data } = ds.X
  let loss = 0
  let correct = 0
  for (let i = 0; i < rows; i++) {
    let z = 0
    for (let j = 0; j < cols; j++) z += data[i * cols + j]! * w[j]!
    const u = ds.y[i]! * z
    loss += Math.log1p(Math.exp(-Math.abs(u))) + Math.max(-u, 0)
    if (u > 0) correct++
  }
  return { loss, accuracy: correct / Math.max(rows, 1) }
}

export const tuneFromConfig = (cfg: TuneConfig, baseDir: string, onStep?: (s: TuneStep) => void): E.Either<HypergradError, TuneOutput> => {
  const built = build(cfg, baseDir)
  if (E.isLeft(built)) return built
  const { splits, lambda: lambda0 } = built.right
  const adaptive = cfg.outer.tolerance !== undefined
  const m = cfg.method
  if (adaptive && m.name !== 'aid')
    return E.left(hgError('config', `config.outer.tolerance: accuracy control uses the a posteriori bound of AID; method "${m.name}" runs with its fixed budget (drop outer.tolerance or use method "aid")`))
  // Each step rebuilds the problem at its λ, with α = 2/(L+τ) there. The linear system's solution
  // v = (α∇²ℓ)⁻¹∇₁E scales with 1/α, so a warm start of v is rescaled by α_prev/α.
  let lastAlpha: number | undefined
  const oracle: HyperOracle = ({ lambda, warm, tolerance, step }) => {
    const p = problemFor(cfg, splits, Float64Array.from(lambda))
    if (E.isLeft(p)) return p
    const problem = p.right
    const ratio = lastAlpha === undefined ? 1 : lastAlpha / problem.alpha
    lastAlpha = problem.alpha
    const w0 = warm.w !== undefined ? { w0: warm.w } : {}
    const v0 = warm.v !== undefined ? { v0: ratio === 1 ? warm.v : warm.v.map((x) => x * ratio) } : {}
    if (adaptive && m.name === 'aid' && tolerance !== undefined) {
      const solvers = aidSolvers(m, problem, lambda)
      if (E.isLeft(solvers)) return solvers
      return aidAdaptive(problem, lambda, {
        lower: solvers.right[0],
        linear: solvers.right[1],
        tolerance,
        maxT: m.t,
        maxK: m.k,
        ...w0,
        ...v0,
      })
    }
    const r = runMethod(m, problem, lambda, cfg.seed + step, { ...w0, ...v0 })
    if (E.isLeft(r)) return r
    const bound = m.name === 'aid' ? aPosterioriAt(problem, lambda, r.right) : null
    return E.right(bound === null ? r.right : { ...r.right, bound })
  }
  const test = splits.test
  const start = performance.now()
  const outer = cfg.outer
  const r = tune(lambda0, oracle, {
    optimizer: outer.optimizer,
    steps: outer.steps,
    stepSize: outer.stepSize,
    ...(outer.logScale !== undefined ? { logScale: outer.logScale } : {}),
    ...(outer.bounds !== undefined ? { bounds: outer.bounds } : {}),
    ...(outer.warmStart !== undefined ? { warmStart: outer.warmStart } : {}),
    ...(outer.tolerance !== undefined ? { tolerance: outer.tolerance } : {}),
    ...(test !== undefined && cfg.problem !== 'ridge'
      ? { evaluate: (_l: RVec, w: RVec) => { const t = classifierMetrics(test, w); return { testLoss: t.loss, testAccuracy: t.accuracy } } }
      : {}),
    ...(onStep !== undefined ? { onStep } : {}),
  })
  if (E.isLeft(r)) return r
  const lam = Array.from(r.right.lambda)
  return E.right({
    lambda: cfg.regularization === 'scalar' && cfg.problem !== 'dataCleaning' ? lam[0]! : lam,
    value: r.right.value,
    status: r.right.status,
    seconds: (performance.now() - start) / 1000,
    trajectory: r.right.trajectory,
  })
}

/** Trajectory rows for CSV: scalar columns, λ itself when scalar, else its min/max/mean. */
export const trajectoryRows = (traj: ReadonlyArray<TuneStep>) =>
  traj.map((s) => {
    const l = s.lambda
    const lam = l.length === 1 ? { lambda: l[0]! } : { lambdaMin: Math.min(...l), lambdaMax: Math.max(...l), lambdaMean: l.reduce((a, b) => a + b, 0) / l.length }
    return { step: s.step, value: s.value, gradNorm: s.gradNorm, t: s.t, k: s.k, bound: s.bound, tolerance: s.tolerance, seconds: s.seconds, status: s.status, ...lam, ...(s.metrics ?? {}) }
  })

/** Run the subcommand; returns the text to print on stdout. */
export const tuneCommand = async (path: string, opts: { readonly json?: boolean; readonly out?: string }, progress: Progress): Promise<string> => {
  const cfg = must(E.flatMap(readJson(path), decodeTuneConfig))
  progress.start(cfg.outer.steps, 'tune')
  let out: TuneOutput
  try {
    out = must(tuneFromConfig(cfg, dirname(path), (s) => progress.update(s.step + 1)))
  } finally {
    progress.stop()
  }
  if (opts.out !== undefined) {
    mkdirSync(opts.out, { recursive: true })
    writeFileSync(join(opts.out, 'tune.json'), JSON.stringify(out, null, 1))
    writeFileSync(join(opts.out, 'tune.csv'), toCsv(trajectoryRows(out.trajectory)))
    const x = out.trajectory.map((s) => s.step)
    const svg = await lineFigure(
      [
        { title: 'validation loss', series: [{ name: 'f(λ)', x, mean: out.trajectory.map((s) => s.value ?? NaN) }] },
        { title: 'hypergradient norm', series: [{ name: '‖∇̂f(λ)‖', x, mean: out.trajectory.map((s) => s.gradNorm) }] },
      ],
      { xLabel: 'outer step', yLabel: '', logY: true },
    )
    writeFileSync(join(opts.out, 'tune.svg'), svg)
  }
  if (opts.json === true) return JSON.stringify(out)
  const last = out.trajectory[out.trajectory.length - 1]
  const lam = typeof out.lambda === 'number' ? out.lambda.toPrecision(8) : `${out.lambda.length} values in [${Math.min(...out.lambda).toPrecision(4)}, ${Math.max(...out.lambda).toPrecision(4)}]`
  return [
    `λ             ${lam}`,
    `f(λ)          ${out.value === null ? "n/a (the last step diverged)" : out.value.toPrecision(10)}`,
    `‖∇̂f(λ)‖       ${last?.gradNorm.toExponential(3) ?? 'n/a'}`,
    `steps         ${out.trajectory.length} (${out.status})`,
    ...(last?.metrics !== undefined ? Object.entries(last.metrics).map(([k, v]) => `${k.padEnd(13)} ${v.toPrecision(6)}`) : []),
    `time          ${out.seconds.toFixed(2)} s`,
  ].join('\n')
}
