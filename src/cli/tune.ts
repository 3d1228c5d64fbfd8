/** `hypergrad tune CONFIG.json`: bilevel optimization of λ with the configured hypergradient method. */
import * as E from 'fp-ts/lib/Either.js'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { checkCharges, type Limits } from '../config/cost.js'
import { formatSeconds } from '../config/resources.js'
import type { DesignDataset } from '../data/dataset.js'
import type { HypergradError } from '../errors.js'
import { designRowDot } from '../linalg/csr.js'
import { multiDots } from '../linalg/rows/multi.js'
import type { RVec } from '../linalg/types.js'
import { maxOf, minOf } from '../linalg/vector.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { ErmProblem } from '../problem/erm.js'
import { psi, softmaxInto } from '../problems/losses.js'
import type { LinearSolver, LowerSolver } from '../solvers/types.js'
import { ermOracle } from '../outer/ermOracle.js'
import { tune, type HyperOracle, type TuneOptions, type TuneStep } from '../outer/tune.js'
import { toCsv } from '../report/csv.js'
import { buildFrom, familyOf, loadData, sizesOf, type Built, type Splits } from './build.js'
import { decodeTuneConfig, multiclass, perSample, type OuterOptimizerName, type TuneConfig } from './config.js'
import { NOTE_SECONDS, shownNumber, type Outcome } from './estimate.js'
import { describeFsError, EXIT, must, note, prepareOutDir, readJson, type Progress } from './io.js'
import { tuneCharges } from './limits.js'
import { aidSolvers, checkMethod, resolveAuto, runMethod } from './methods.js'

export interface TuneOutput {
  readonly lambda: number | number[]
  /** f(λ) at the last step (null when the last step diverged). */
  readonly value: number | null
  readonly status: string
  readonly seconds: number
  /** Every step; a diverged step has a null value and gradient norm (no number that looks like an estimate). */
  readonly trajectory: ReadonlyArray<ReportedStep>
}

/** A step of the outer loop as the command reports it. */
export type ReportedStep = Omit<TuneStep, 'value' | 'gradNorm'> & { readonly value: number | null; readonly gradNorm: number | null }

const reported = (s: TuneStep): ReportedStep => {
  const diverged = s.status === 'diverged'
  const ok = (x: number | null | undefined): number | null => (!diverged && typeof x === 'number' && Number.isFinite(x) ? x : null)
  return { ...s, value: ok(s.value), gradNorm: ok(s.gradNorm) }
}

/**
 * The loss and accuracy of a linear classifier on a labelled set (dense or CSR). Without
 * `nClasses`: w ∈ Rᵖ on ±1 labels, the logistic loss Σ ψ(yᵢxᵢᵀw) and the share of yᵢxᵢᵀw > 0.
 * With C = `nClasses`: W ∈ R^{p×C} stored row-major (softmax.ts) on labels 0…C−1, the
 * cross-entropy Σ logsumexp(zᵢ) − (zᵢ)_{yᵢ} of the scores zᵢ = Wᵀxᵢ and the share of rows whose
 * largest score is their class's (the first largest on a tie).
 */
export const classifierMetrics = (ds: DesignDataset, w: RVec, nClasses?: number): { loss: number; accuracy: number } => {
  const { rows } = ds.X
  let loss = 0
  let correct = 0
  if (nClasses === undefined) {
    for (let i = 0; i < rows; i++) {
      const u = ds.y[i]! * designRowDot(ds.X, i, w)
      loss += psi(u)
      if (u > 0) correct++
    }
  } else {
    const prob = new Float64Array(nClasses)
    multiDots(ds.X, nClasses, w, undefined, undefined, (_k, i, z) => {
      const yi = ds.y[i]!
      loss += softmaxInto(z, prob) - z[yi]!
      let best = 0
      for (let c = 1; c < nClasses; c++) if (z[c]! > z[best]!) best = c
      if (best === yi) correct++
    })
  }
  return { loss, accuracy: correct / Math.max(rows, 1) }
}

/**
 * The oracle of a tune config. Every deterministic method (exact, aid, and the automatic
 * choice) runs through `ermOracle`: the objectives are built once (`problemFamily`), w and αv
 * are warm-started through every evaluation, and AID's tolerances follow the outer progress
 * when the optimizer is lbfgs or secant (or the method is automatic) and the config sets none.
 * ITD and SID evaluate the configured method at each λ, warm-started.
 */
export const oracleFor = (cfg: TuneConfig, built: Built): E.Either<HypergradError, HyperOracle> => {
  const at = familyOf(built.problem)
  const m = resolveAuto(cfg.method, built.problem.dim)
  const seed = (step: number) => cfg.seed + step
  if (m.name === 'exact') return ermOracle(at, { method: { name: 'exact' }, seed })
  if (m.name === 'aid') {
    const own = m.lower === 'newtonCg' || m.lower === 'lbfgs'
    const fixed = m.tolLower !== undefined || m.tolLinear !== undefined || m.tol !== undefined
    const progress = !fixed && (cfg.method.name === 'auto' || cfg.outer.optimizer === 'lbfgs' || cfg.outer.optimizer === 'secant')
    const solvers = (problem: ErmProblem, lambda: RVec) => aidSolvers(m, problem, lambda)
    return ermOracle(at, {
      method: {
        name: 'aid',
        // newtonCg and lbfgs are built by the oracle at each evaluation with that evaluation's tolerances.
        lower: own && progress ? m.lower as 'newtonCg' | 'lbfgs' : (problem, lambda) => E.map(([lower]: [LowerSolver, LinearSolver]) => lower)(solvers(problem, lambda)),
        linear: (problem, lambda) => E.map(([, linear]: [LowerSolver, LinearSolver]) => linear)(solvers(problem, lambda)),
        t: m.t,
        k: m.k,
        accuracy: progress ? 'progress' : { ...(m.tolLower !== undefined ? { tolLower: m.tolLower } : {}), ...(m.tolLinear !== undefined ? { tolLinear: m.tolLinear } : {}) },
      },
      seed,
      // The a posteriori bound of every step, as before the fast path (it costs several passes).
      certify: !progress,
    })
  }
  return E.right(({ lambda, warm, step }) => {
    const p = at(lambda)
    if (E.isLeft(p)) return p
    const problem = p.right
    const a = problem.alpha
    const r = runMethod(m, problem, lambda, seed(step), { ...(warm.w !== undefined ? { w0: warm.w } : {}), ...(warm.v !== undefined ? { v0: warm.v.map((x) => x / a) } : {}) })
    return E.map((res: HypergradResult) => ({ ...res, v: res.v.map((x) => x * a) }))(r)
  })
}

export const tuneFromConfig = (cfg: TuneConfig, splits: Splits, onStep?: (s: TuneStep) => void, prebuilt?: Built): E.Either<HypergradError, TuneOutput> => {
  const built = prebuilt !== undefined ? E.right(prebuilt) : buildFrom(cfg, splits)
  if (E.isLeft(built)) return built
  const { lambda: lambda0 } = built.right
  const oracle = oracleFor(cfg, built.right)
  if (E.isLeft(oracle)) return oracle
  const test = splits.test
  const start = performance.now()
  const outer = cfg.outer
  const r = tune(lambda0, oracle.right, {
    ...outer,
    optimizer: tuneOptimizer(outer.optimizer),
    ...(test !== undefined && cfg.problem !== 'ridge'
      ? {
          evaluate: (_l: RVec, w: RVec) => {
            const t = classifierMetrics(test, w, multiclass(cfg.problem) ? splits.train.nClasses : undefined)
            return { testLoss: t.loss, testAccuracy: t.accuracy }
          },
        }
      : {}),
    ...(onStep !== undefined ? { onStep } : {}),
  })
  if (E.isLeft(r)) return r
  const lam = Array.from(r.right.lambda)
  return E.right({
    lambda: cfg.regularization === 'scalar' && !perSample(cfg.problem) ? lam[0]! : lam,
    value: Number.isFinite(r.right.value) ? r.right.value : null,
    status: r.right.status,
    seconds: (performance.now() - start) / 1000,
    trajectory: r.right.trajectory.map(reported),
  })
}

/** Trajectory rows for CSV: scalar columns, λ itself when scalar, else its min/max/mean. */
export const trajectoryRows = (traj: ReadonlyArray<ReportedStep>) =>
  traj.map((s) => {
    const l = s.lambda
    const lam = l.length === 1 ? { lambda: l[0]! } : { lambdaMin: minOf(l), lambdaMax: maxOf(l), lambdaMean: l.reduce((a, b) => a + b, 0) / l.length }
    return { step: s.step, value: s.value, gradNorm: s.gradNorm, t: s.t, k: s.k, bound: s.bound, tolerance: s.tolerance, seconds: s.seconds, status: s.status, ...lam, ...(s.metrics ?? {}) }
  })

/** The optimizer option of `tune` for a name of the config (config.ts lists the names). */
export const tuneOptimizer = (name: OuterOptimizerName): TuneOptions['optimizer'] => name

/** Write tune.json, tune.csv and tune.svg to `dir`; the files written, or the error. */
const writeTuneFiles = async (out: TuneOutput, dir: string): Promise<E.Either<string, string[]>> => {
  const files: string[] = []
  try {
    const put = (name: string, text: string) => {
      writeFileSync(join(dir, name), text)
      files.push(name)
    }
    put('tune.json', JSON.stringify(out, null, 1))
    put('tune.csv', toCsv(trajectoryRows(out.trajectory)))
    const { lineFigure } = await import('../report/figure.js')
    const x = out.trajectory.map((s) => s.step)
    const svg = await lineFigure(
      [
        { title: 'validation loss', series: [{ name: 'f(λ)', x, y: out.trajectory.map((s) => s.value ?? NaN) }] },
        { title: 'hypergradient norm', series: [{ name: '‖∇̂f(λ)‖', x, y: out.trajectory.map((s) => s.gradNorm ?? NaN) }] },
      ],
      { xLabel: 'outer step', yLabel: '', logY: true },
    )
    put('tune.svg', svg)
    return E.right(files)
  } catch (e) {
    return E.left(`could not write ${join(dir, files.length === 0 ? 'tune.json' : files.length === 1 ? 'tune.csv' : 'tune.svg')}: ${describeFsError(e)}`)
  }
}

/**
 * Run the subcommand: the limits and the output folder are checked before the outer loop; a
 * loop that ended on a diverged step exits with status 3; files that cannot be written after
 * the loop leave the result on stdout (as JSON) and say so.
 */
export const tuneCommand = async (
  path: string,
  opts: { readonly json?: boolean; readonly out?: string; readonly quiet?: boolean },
  limits: Limits,
  progress: Progress,
): Promise<Outcome> => {
  const cfg = must(E.flatMap(readJson(path), decodeTuneConfig))
  const splits = must(loadData(cfg.data, cfg.problem, dirname(path)))
  const cost = must(checkCharges(tuneCharges(cfg.method, cfg.outer, sizesOf(cfg, splits)), limits))
  const start = must(buildFrom(cfg, splits))
  must(checkMethod(cfg.method, start.problem, start.lambda, cfg.seed))
  if (opts.out !== undefined) must(prepareOutDir(opts.out))
  if (cost.seconds >= NOTE_SECONDS && opts.quiet !== true) note(`this run is estimated to take at least ${formatSeconds(cost.seconds)}`)
  progress.start(cfg.outer.steps, 'tune')
  let out: TuneOutput
  try {
    out = must(tuneFromConfig(cfg, splits, (s) => progress.update(s.step + 1), start))
  } finally {
    progress.stop()
  }
  const last = out.trajectory[out.trajectory.length - 1]
  const diverged = out.status === 'diverged'
  const code = diverged ? EXIT.diverged : EXIT.ok
  const messages: string[] = []
  if (diverged) messages.push(`the hypergradient diverged at outer step ${last?.step ?? 0}, at the λ printed`)
  let writeFailed = false
  if (opts.out !== undefined) {
    const w = await writeTuneFiles(out, opts.out)
    if (E.isLeft(w)) {
      messages.push(`${w.left}; the result is printed on standard output instead`)
      writeFailed = true
    }
  }
  const outcome = (stdout: string): Outcome => ({
    stdout,
    code: writeFailed && !diverged ? EXIT.input : code,
    ...(messages.length > 0 ? { message: messages.join('; ') } : {}),
  })
  if (opts.json === true || writeFailed) return outcome(JSON.stringify(out))
  const lam = typeof out.lambda === 'number' ? out.lambda.toPrecision(8) : `${out.lambda.length} values in [${minOf(out.lambda).toPrecision(4)}, ${maxOf(out.lambda).toPrecision(4)}]`
  return outcome(
    [
      `λ             ${lam}`,
      `f(λ)          ${shownNumber(out.value, (x) => x.toPrecision(10))}`,
      `‖∇̂f(λ)‖       ${shownNumber(last?.gradNorm, (x) => x.toExponential(3))}`,
      `steps         ${out.trajectory.length} (${diverged ? 'diverged' : out.status})`,
      ...(last?.metrics !== undefined ? Object.entries(last.metrics).map(([k, v]) => `${k.padEnd(13)} ${shownNumber(v, (x) => x.toPrecision(6))}`) : []),
      `time          ${out.seconds.toFixed(2)} s`,
    ].join('\n'),
  )
}
