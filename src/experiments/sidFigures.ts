/**
 * The experiments of the SID paper's §6 (Grazzi, Pontil, Salzo, "Convergence Properties of
 * Stochastic Hypergradients"): logistic regression on MNIST odd versus even, n_tr = n_val = 5000,
 * and the squared error ‖∇̂f(λ) − ∇f(λ)‖² of three SID variants (Algorithm 1) against the budget
 * in epochs.
 *
 *  - sid-fig1 (Fig. 1): one regularization parameter, R = (λ/2)‖w‖², at four values of λ.
 *  - sid-fig2 (Fig. 2): one parameter per feature, R = ½wᵀdiag(λ)w, λᵢ = e^{εᵢ}, εᵢ ~ U[−2, 2].
 *
 * The variants are the presets of hypergrad/presets.ts: Batch (AID-FP with t = k = E/2 full
 * steps), Stoch const (t = k = 50E minibatch-50 steps, η = 1, eq. 28–29) and Stoch dec (the same
 * with ηₜ = β/(γ + t), β = γ = 2/(1 − q²)). Every budget E is an independent SID run from
 * w₀ = v₀ = 0, as in the paper. The lower-level iterates of a variant are computed once, up to
 * the largest budget, and SID for budget E is started from the stored wₜ (t = t(E)) with no
 * further lower steps: the lower solver's stream for budget E is a prefix of the one for the
 * largest budget (same seed, same schedule), so the numbers are exactly those of independent
 * runs (a test checks this bit for bit).
 *
 * A run r has its own train/validation split (mnistOddEven({ seed: seed + r }); with
 * `split: 'reference'` every run uses the peers' reference split) and its own minibatch stream
 * (SID seed seed·100003 + r, shared by the variants and the λ values of the run: common random
 * numbers). The ground truth per (run, λ) comes from truth.ts. Tasks (one per run × λ for
 * Fig. 1, one per run for Fig. 2) run in worker threads (pool.ts); each worker loads its own
 * split from the MNIST cache and keeps only the current one.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { mnistOddEven, type MnistOddEven } from '../data/mnist.js'
import { sidPreset, type PresetName } from '../hypergrad/presets.js'
import { sid, sidStreams, type SidOptions } from '../hypergrad/sid.js'
import type { RVec, Vec } from '../linalg/types.js'
import { isFiniteVec } from '../linalg/vector.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { logisticProblem, type Regularization } from '../problems/logistic.js'
import { seed as rngSeed, uniformsIn } from '../random/rng.js'
import type { Panel, Series } from '../report/figure.js'
import { defaultWorkers, runTasks, type Task } from './pool.js'
import type { CsvRow, ExperimentOutput, RunOptions, TaskOutcome } from './registry.js'
import { logisticTruth, type LogisticTruth } from './truth.js'

// ── shared helpers (also used by the other experiments) ─────────────────────────────────────

/** Mean and sample standard deviation (0 for one value) of the finite values; NaN when none is finite. */
export const meanStd = (xs: ReadonlyArray<number | null>): { readonly mean: number; readonly std: number; readonly count: number } => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x))
  if (v.length === 0) return { mean: NaN, std: NaN, count: 0 }
  const mean = v.reduce((a, b) => a + b, 0) / v.length
  if (v.length === 1) return { mean, std: 0, count: 1 }
  const ss = v.reduce((a, b) => a + (b - mean) * (b - mean), 0)
  return { mean, std: Math.sqrt(ss / (v.length - 1)), count: v.length }
}

/** A finite number, or null (JSON has no NaN or Infinity). */
export const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null)

/**
 * Run groups of tasks on the pool (a group: the tasks that share one data split), turning
 * task-level Lefts into one Left (the first, by task order); results come back in task order.
 *
 * Memory: a worker that moves on to another split would hold the old one until the garbage
 * collector runs, and the process's peak would be two splits per worker. So with more than one
 * worker the groups run in batches, each on fresh workers that exit at its end: consecutive
 * groups are added to a batch until it has at least as many tasks as workers. sid-fig1 (four
 * λ per run, two workers) then runs one run per batch, each worker loading that run's split
 * once; sid-fig2 (one task per run) runs two runs per batch. With one worker every task runs in
 * this thread, in order, and consecutive tasks of a group reuse the split (see `splitOf`).
 * Tasks that hold no large data may share workers throughout (`batched = false`).
 */
export const runOutcomes = async <R>(
  groups: ReadonlyArray<ReadonlyArray<Task>>,
  opts: RunOptions,
  batched = true,
): Promise<E.Either<HypergradError, R[]>> => {
  const total = groups.reduce((a, g) => a + g.length, 0)
  const workers = opts.workers ?? defaultWorkers()
  const batches: Task[][] = []
  if (workers <= 1 || !batched) batches.push(groups.flat())
  else {
    let current: Task[] = []
    for (const g of groups) {
      current.push(...g)
      if (current.length >= workers) {
        batches.push(current)
        current = []
      }
    }
    if (current.length > 0) batches.push(current)
  }
  opts.onProgress?.(0, total)
  const values: R[] = []
  let done = 0
  for (const batch of batches) {
    const offset = done
    const outs = await runTasks<TaskOutcome<R>>(batch, {
      workers,
      ...(opts.onProgress === undefined ? {} : { onDone: (d: number) => opts.onProgress?.(offset + d, total) }),
    })
    done += batch.length
    for (const o of outs) {
      if (!o.ok) return E.left(o.error)
      values.push(o.value)
    }
  }
  return E.right(values)
}

/** Format a number for the summary tables (3 significant digits). */
export const fmt = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : String(x))

// ── configuration ────────────────────────────────────────────────────────────────────────────

/** The legend label of each SID preset, as the paper names them. */
export const VARIANT_LABEL: Readonly<Record<PresetName, string>> = {
  batch: 'Batch',
  stochConst: 'Stoch const',
  stochDec: 'Stoch dec',
  twoPhase: 'Two-phase',
}

/** What both figures share. */
export interface SidCommonConfig {
  /** Independent runs (5 in Fig. 1, 10 in Fig. 2). */
  readonly runs: number
  /** The epoch budgets E (each an independent SID run): the x axis. */
  readonly epochs: ReadonlyArray<number>
  readonly variants: ReadonlyArray<PresetName>
  /** Training and validation rows (5000 each in the paper). */
  readonly nTrain: number
  readonly nVal: number
  /** Minibatch size of the stochastic variants (50 in the paper). */
  readonly batchSize: number
  /** 'seeded': run r uses mnistOddEven({ seed: seed + r }); 'reference': the peers' split for every run. */
  readonly split: 'seeded' | 'reference'
  /** Base seed of the splits, the minibatch streams and (Fig. 2) the λ draws. */
  readonly seed: number
}

/** sid-fig1: one scalar λ per panel. */
export interface SidFig1Config extends SidCommonConfig {
  readonly lambdas: ReadonlyArray<number>
}

/**
 * sid-fig2: λᵢ = s·e^{εᵢ}, εᵢ ~ U[epsLow, epsHigh], drawn per run. The paper has s = 1. With sum
 * losses as in SID §6, s = n_tr gives the problem with mean losses ((1/n)Σψ + R): the same w, the
 * same SID iterates (Φ does not change when ℓ is scaled) and the same relative errors.
 */
export interface SidFig2Config extends SidCommonConfig {
  readonly epsLow: number
  readonly epsHigh: number
  readonly lambdaScale: number
}

const COMMON_DEFAULTS = {
  epochs: [2, 4, 10, 20, 40, 60],
  variants: ['batch', 'stochConst', 'stochDec'] as ReadonlyArray<PresetName>,
  nTrain: 5000,
  nVal: 5000,
  batchSize: 50,
  split: 'seeded' as const,
  seed: 0,
}

/** The defaults of sid-fig1: 5 runs, λ ∈ {1, 10, 100, 1000} (κ = L/τ ≈ 4.85e4/λ), budgets 2–60 epochs. */
export const sidFig1Defaults: SidFig1Config = { ...COMMON_DEFAULTS, runs: 5, lambdas: [1, 10, 100, 1000] }

/** The defaults of sid-fig2: 10 runs, εᵢ ~ U[−2, 2], budgets 2–60 epochs. */
export const sidFig2Defaults: SidFig2Config = { ...COMMON_DEFAULTS, runs: 10, epsLow: -2, epsHigh: 2, lambdaScale: 1 }

// ── one task ─────────────────────────────────────────────────────────────────────────────────

/** The input of one task (a structured-clone value: every random choice derives from it). */
export interface SidTaskInput {
  readonly regularization: Regularization
  readonly run: number
  /** The scalar λ (regularization 'scalar'). */
  readonly lambda?: number
  /** λᵢ = lambdaScale·e^{εᵢ}, εᵢ ~ U[epsLow, epsHigh] (regularization 'perFeature'). */
  readonly epsLow?: number
  readonly epsHigh?: number
  readonly lambdaScale?: number
  readonly epochs: ReadonlyArray<number>
  readonly variants: ReadonlyArray<PresetName>
  readonly nTrain: number
  readonly nVal: number
  readonly batchSize: number
  readonly split: 'seeded' | 'reference'
  readonly seed: number
}

/** One SID run: a variant at a budget. */
export interface SidCell {
  readonly variant: PresetName
  readonly epochs: number
  readonly t: number
  readonly k: number
  /** ‖∇̂f − ∇f‖² (null when diverged). */
  readonly sqErr: number | null
  /** ‖∇̂f − ∇f‖²/‖∇f‖². */
  readonly relSqErr: number | null
  readonly status: 'maxIter' | 'converged' | 'diverged'
}

/** The ground truth's diagnostics, as recorded in results.json. */
export interface TruthSummary {
  readonly value: number
  /** ‖∇f(λ)‖. */
  readonly gradNorm: number
  /** ∇f(λ) itself when λ is scalar. */
  readonly gradient?: number
  readonly newtonSteps: number
  readonly relGradNorm: number
  readonly newtonResidual: number
  readonly linearResidual: number
  readonly converged: boolean
  readonly reason?: string
  readonly seconds: number
}

/** The result of one task. */
export interface SidTaskResult {
  readonly run: number
  /** The scalar λ, or null for per-feature λ. */
  readonly lambda: number | null
  /** min, median and max of λ (equal for a scalar λ). */
  readonly lambdaRange: { readonly min: number; readonly median: number; readonly max: number }
  /** κ = L/τ of ℓ(·, λ), q = (L − τ)/(L + τ) and α = 2/(L + τ). */
  readonly kappa: number
  readonly q: number
  readonly alpha: number
  readonly truth: TruthSummary
  readonly cells: ReadonlyArray<SidCell>
  readonly seconds: { readonly load: number; readonly truth: number; readonly sid: Readonly<Record<string, number>> }
}

/** The integer SID seed of run r (shared by its variants and λ values). */
export const sidSeedOf = (seed: number, run: number): number => seed * 100003 + run

/** λᵢ = scale·e^{εᵢ}, εᵢ ~ U[lo, hi], from the run's own stream (SID Fig. 2: scale 1). */
export const perFeatureLambda = (seed: number, run: number, p: number, lo: number, hi: number, scale = 1): Vec => {
  const [eps] = uniformsIn(rngSeed(1_000_000_007 + sidSeedOf(seed, run)), p, lo, hi)
  return eps.map((e) => scale * Math.exp(e))
}

// The current split of this worker (one at a time, so that memory holds one split only).
let splitCache: { readonly key: string; readonly data: MnistOddEven } | undefined

/** Load (or reuse) the split of a run. */
export const splitOf = (
  split: 'seeded' | 'reference',
  seed: number,
  nTrain: number,
  nVal: number,
): E.Either<HypergradError, MnistOddEven> => {
  const key = `${split}:${split === 'seeded' ? seed : ''}:${nTrain}:${nVal}`
  if (splitCache?.key === key) return E.right(splitCache.data)
  splitCache = undefined // drop the old split before loading the next
  const data = mnistOddEven(split === 'reference' ? { nTrain, nVal } : { nTrain, nVal, seed })
  if (E.isRight(data)) splitCache = { key, data: data.right }
  return data
}

/** Forget the cached split (tasks run in this thread keep it otherwise). */
export const releaseSplitCache = (): void => {
  splitCache = undefined
}

const sqDist = (a: RVec, b: RVec): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!
    s += d * d
  }
  return s
}

/**
 * SID with one preset at several epoch budgets, each an independent run from w₀ = v₀ = 0, with
 * the lower-level iterates shared across budgets where the preset allows it (see the module
 * comment): the result for budget E equals sidWithPreset(name, problem, λ, { epochs: E,
 * batchSize, seed }) exactly. Returns one cell per budget (ascending), with the squared error
 * against `truth`; a lower stage that diverged gives status 'diverged' and null errors.
 */
export const sidAtBudgets = (
  problem: BilevelProblem,
  lambda: RVec,
  variant: PresetName,
  budgets: ReadonlyArray<number>,
  batchSize: number,
  seed: number,
  truth: RVec,
): E.Either<HypergradError, SidCell[]> => {
  const sorted = [...new Set(budgets)].sort((a, b) => a - b)
  const plans: Array<{ readonly epochs: number; readonly opts: SidOptions }> = []
  for (const epochs of sorted) {
    const o = sidPreset(variant, problem, lambda, { epochs, batchSize, seed })
    if (E.isLeft(o)) return o
    plans.push({ epochs, opts: o.right })
  }
  if (plans.length === 0) return E.right([])
  // The lower iterates at every t needed. Batch, Stoch const and Stoch dec use the same lower
  // solver for every budget (their schedules do not depend on t), so one stream, run to the
  // largest t, serves all budgets; 'twoPhase' switches at t/2, so each budget runs its own.
  const shared = variant !== 'twoPhase'
  // A t with no stored iterate is one the stream did not reach finitely (diverged).
  const prefixes = new Map<number, Vec>()
  const runLower = (opts: SidOptions, ts: ReadonlySet<number>): void => {
    const w0 = new Float64Array(problem.dim)
    for (const s of opts.lower.iterates(problem, lambda, w0, sidStreams(seed)[0])) {
      if (!isFiniteVec(s.w)) return
      if (ts.has(s.iter)) prefixes.set(s.iter, s.w)
      if (s.iter >= opts.t) return
    }
  }
  if (shared) runLower(plans[plans.length - 1]!.opts, new Set(plans.map((p) => p.opts.t)))
  const norm2 = sqDist(truth, new Float64Array(truth.length))
  const cells: SidCell[] = []
  for (const { epochs, opts } of plans) {
    if (!shared) {
      prefixes.clear()
      runLower(opts, new Set([opts.t]))
    }
    const wt = prefixes.get(opts.t)
    if (wt === undefined) {
      cells.push({ variant, epochs, t: opts.t, k: opts.k, sqErr: null, relSqErr: null, status: 'diverged' })
      continue
    }
    const r = sid(problem, lambda, { ...opts, t: 0, w0: wt })
    if (E.isLeft(r)) return r
    const res = r.right
    const ok = res.status !== 'diverged'
    const e = ok ? sqDist(res.gradient, truth) : NaN
    cells.push({
      variant,
      epochs,
      t: opts.t,
      k: opts.k,
      sqErr: finiteOrNull(e),
      relSqErr: finiteOrNull(e / norm2),
      status: ok && Number.isFinite(e) ? res.status : 'diverged',
    })
  }
  return E.right(cells)
}

const summarizeTruth = (t: LogisticTruth): TruthSummary => ({
  value: t.value,
  gradNorm: Math.sqrt(sqDist(t.gradient, new Float64Array(t.gradient.length))),
  ...(t.gradient.length === 1 ? { gradient: t.gradient[0]! } : {}),
  newtonSteps: t.newtonSteps,
  relGradNorm: t.relGradNorm,
  newtonResidual: t.newtonResidual,
  linearResidual: t.linearResidual,
  converged: t.converged,
  ...(t.reason === undefined ? {} : { reason: t.reason }),
  seconds: t.seconds,
})

const median = (xs: RVec): number => {
  const s = Float64Array.from(xs).sort()
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * One task of sid-fig1 (a run and a scalar λ) or sid-fig2 (a run, λ drawn per feature): load the
 * run's split, compute the ground truth (truth.ts), then every variant at every budget
 * (`sidAtBudgets`). Returns a structured-clone outcome; a Left of the library becomes
 * `{ ok: false, error }`.
 */
export const sidTask = (input: SidTaskInput): TaskOutcome<SidTaskResult> => {
  const out = sidTaskEither(input)
  return E.isLeft(out) ? { ok: false, error: out.left } : { ok: true, value: out.right }
}

const sidTaskEither = (input: SidTaskInput): E.Either<HypergradError, SidTaskResult> => {
  const t0 = performance.now()
  const data = splitOf(input.split, input.seed + input.run, input.nTrain, input.nVal)
  if (E.isLeft(data)) return data
  const { train, validation } = data.right
  const p = train.X.cols
  let lambda: Vec
  if (input.regularization === 'scalar') {
    if (input.lambda === undefined) return E.left(hgError('config', 'sidTask: a scalar task needs lambda'))
    lambda = Float64Array.of(input.lambda)
  } else {
    lambda = perFeatureLambda(input.seed, input.run, p, input.epsLow ?? -2, input.epsHigh ?? 2, input.lambdaScale ?? 1)
  }
  const tLoad = performance.now()
  const truth = logisticTruth(train, validation, lambda, input.regularization)
  if (E.isLeft(truth)) return truth
  const tTruth = performance.now()
  const problemE = logisticProblem(train, validation, lambda, { regularization: input.regularization })
  if (E.isLeft(problemE)) return problemE
  const problem = problemE.right
  const { tau, L } = problem.lower.curvature(lambda)
  const seed = sidSeedOf(input.seed, input.run)
  const cells: SidCell[] = []
  const sidSeconds: Record<string, number> = {}
  for (const variant of input.variants) {
    const s0 = performance.now()
    const c = sidAtBudgets(problem, lambda, variant, input.epochs, input.batchSize, seed, truth.right.gradient)
    if (E.isLeft(c)) return c
    cells.push(...c.right)
    sidSeconds[variant] = (performance.now() - s0) / 1000
  }
  let lo = Infinity
  let hi = -Infinity
  for (const l of lambda) {
    lo = Math.min(lo, l)
    hi = Math.max(hi, l)
  }
  return E.right({
    run: input.run,
    lambda: input.regularization === 'scalar' ? lambda[0]! : null,
    lambdaRange: { min: lo, median: median(lambda), max: hi },
    kappa: L / tau,
    q: problem.contraction(lambda),
    alpha: problem.alpha,
    truth: summarizeTruth(truth.right),
    cells,
    seconds: { load: (tLoad - t0) / 1000, truth: (tTruth - tLoad) / 1000, sid: sidSeconds },
  })
}

// ── aggregation, figures and tables ─────────────────────────────────────────────────────────

/** Mean and std over runs of one (panel, variant, budget). */
export interface SidPoint {
  readonly variant: PresetName
  readonly epochs: number
  readonly sqErr: { readonly mean: number; readonly std: number; readonly count: number }
  readonly relSqErr: { readonly mean: number; readonly std: number; readonly count: number }
  /** Runs that diverged at this budget. */
  readonly diverged: number
}

const aggregate = (results: ReadonlyArray<SidTaskResult>, variants: ReadonlyArray<PresetName>, epochs: ReadonlyArray<number>): SidPoint[] => {
  const budgets = [...new Set(epochs)].sort((a, b) => a - b)
  const points: SidPoint[] = []
  for (const variant of variants) {
    for (const e of budgets) {
      const cells = results.flatMap((r) => r.cells.filter((c) => c.variant === variant && c.epochs === e))
      points.push({
        variant,
        epochs: e,
        sqErr: meanStd(cells.map((c) => c.sqErr)),
        relSqErr: meanStd(cells.map((c) => c.relSqErr)),
        diverged: cells.filter((c) => c.status === 'diverged').length,
      })
    }
  }
  return points
}

const seriesOf = (points: ReadonlyArray<SidPoint>, variants: ReadonlyArray<PresetName>): Series[] =>
  variants.map((v) => {
    const ps = points.filter((p) => p.variant === v)
    return {
      name: VARIANT_LABEL[v],
      x: ps.map((p) => p.epochs),
      mean: ps.map((p) => p.sqErr.mean),
      std: ps.map((p) => p.sqErr.std),
      points: true,
    }
  })

const rowsOf = (experiment: string, results: ReadonlyArray<SidTaskResult>): CsvRow[] =>
  results.flatMap((r) =>
    r.cells.map((c) => ({
      experiment,
      run: r.run,
      lambda: r.lambda ?? 'per-feature',
      lambda_min: r.lambdaRange.min,
      lambda_max: r.lambdaRange.max,
      kappa: r.kappa,
      variant: c.variant,
      epochs: c.epochs,
      t: c.t,
      k: c.k,
      sq_error: c.sqErr,
      rel_sq_error: c.relSqErr,
      true_grad_norm: r.truth.gradNorm,
      status: c.status,
    })),
  )

/** The table of final errors (mean ± std at the last budget) for one panel. */
const finalTable = (label: string, points: ReadonlyArray<SidPoint>, variants: ReadonlyArray<PresetName>): string[] => {
  const lastE = Math.max(...points.map((p) => p.epochs))
  const cells = variants.map((v) => {
    const p = points.find((q) => q.variant === v && q.epochs === lastE)
    if (p === undefined) return '—'
    const div = p.diverged > 0 ? ` [${p.diverged} diverged]` : ''
    return `${fmt(p.sqErr.mean)} ± ${fmt(p.sqErr.std)} (rel ${fmt(p.relSqErr.mean)})${div}`
  })
  return [`${label.padEnd(14)} ${cells.map((c) => c.padEnd(40)).join(' ')}`]
}

const tableHeader = (variants: ReadonlyArray<PresetName>): string =>
  `${''.padEnd(14)} ${variants.map((v) => VARIANT_LABEL[v].padEnd(40)).join(' ')}`

/** The timing of a run: wall clock, and each task's seconds by phase (kept out of `details`, so that results are reproducible bit for bit). */
const timingOf = (started: number, workers: number | undefined, results: ReadonlyArray<SidTaskResult>) => ({
  wallSeconds: (performance.now() - started) / 1000,
  workers: workers ?? 0,
  taskSeconds: results.map((r) => r.seconds.load + r.seconds.truth + Object.values(r.seconds.sid).reduce((a, b) => a + b, 0)),
  phases: results.map((r) => ({ run: r.run, lambda: r.lambda, ...r.seconds, newton: r.truth.seconds })),
})

/** A task's result without its timings (for results.json's reproducible part). */
const untimed = (r: SidTaskResult) => {
  const { seconds: _s, truth, ...rest } = r
  const { seconds: _t, ...truthRest } = truth
  return { ...rest, truth: truthRest }
}

const taskBase = (c: SidCommonConfig) => ({
  epochs: [...c.epochs],
  variants: [...c.variants],
  nTrain: c.nTrain,
  nVal: c.nVal,
  batchSize: c.batchSize,
  split: c.split,
  seed: c.seed,
})

/**
 * sid-fig1 (SID Fig. 1): for every run and λ, the squared hypergradient error of each variant
 * after each budget; figure fig1.svg with one panel per λ (mean ± std over the runs, log scale).
 */
export const runSidFig1 = async (config: SidFig1Config, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<SidFig1Config>>> => {
  const started = performance.now()
  // One task per (run, λ); the tasks of a run share its split.
  const groups: Task[][] = []
  for (let run = 0; run < config.runs; run++)
    groups.push(
      config.lambdas.map((lambda) => ({
        module: 'sidFigures',
        fn: 'sidTask',
        input: { ...taskBase(config), regularization: 'scalar', run, lambda } satisfies SidTaskInput,
      })),
    )
  const res = await runOutcomes<SidTaskResult>(groups, opts)
  releaseSplitCache()
  if (E.isLeft(res)) return res
  const results = res.right
  const panels: Panel[] = []
  const perLambda: Array<{ readonly lambda: number; readonly kappa: number; readonly points: SidPoint[] }> = []
  const lines = [
    `sid-fig1: squared error ‖∇̂f − ∇f‖² after ${Math.max(...config.epochs)} epochs, mean ± std over ${config.runs} runs (relative error in parentheses)`,
    tableHeader(config.variants),
  ]
  for (const lambda of config.lambdas) {
    const rs = results.filter((r) => r.lambda === lambda)
    const points = aggregate(rs, config.variants, config.epochs)
    const kappa = meanStd(rs.map((r) => r.kappa)).mean
    perLambda.push({ lambda, kappa, points })
    panels.push({ title: `λ = ${lambda} (κ ≈ ${kappa.toExponential(1)})`, series: seriesOf(points, config.variants) })
    lines.push(...finalTable(`λ = ${lambda}`, points, config.variants))
  }
  return E.right({
    experiment: 'sid-fig1',
    config,
    rows: rowsOf('sid-fig1', results),
    figures: [
      {
        file: 'fig1.svg',
        panels,
        options: {
          title: `SID Fig. 1: MNIST odd/even, scalar λ, ${config.runs} runs`,
          xLabel: 'epochs',
          yLabel: '‖∇̂f − ∇f‖²',
          logY: true,
        },
      },
    ],
    summary: lines.join('\n'),
    details: { aggregate: perLambda, tasks: results.map(untimed) },
    timing: timingOf(started, opts.workers, results),
  })
}

/**
 * sid-fig2 (SID Fig. 2): λᵢ = e^{εᵢ} per feature, drawn per run; the squared hypergradient error
 * of each variant after each budget; figure fig2.svg (one panel, mean ± std over the runs).
 */
export const runSidFig2 = async (config: SidFig2Config, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<SidFig2Config>>> => {
  const started = performance.now()
  const groups: Task[][] = []
  for (let run = 0; run < config.runs; run++)
    groups.push([
      {
        module: 'sidFigures',
        fn: 'sidTask',
        input: {
          ...taskBase(config),
          regularization: 'perFeature',
          run,
          epsLow: config.epsLow,
          epsHigh: config.epsHigh,
          lambdaScale: config.lambdaScale,
        } satisfies SidTaskInput,
      },
    ])
  const res = await runOutcomes<SidTaskResult>(groups, opts)
  releaseSplitCache()
  if (E.isLeft(res)) return res
  const results = res.right
  const points = aggregate(results, config.variants, config.epochs)
  const kappa = meanStd(results.map((r) => r.kappa))
  const tau = meanStd(results.map((r) => r.lambdaRange.min))
  const law = `λᵢ = ${config.lambdaScale === 1 ? '' : `${config.lambdaScale}·`}e^εᵢ, εᵢ ~ U[${config.epsLow}, ${config.epsHigh}]`
  const lines = [
    `sid-fig2: squared error ‖∇̂f − ∇f‖² after ${Math.max(...config.epochs)} epochs, mean ± std over ${config.runs} runs (relative error in parentheses)`,
    `${law}: τ = min λᵢ ≈ ${tau.mean.toPrecision(3)}, κ = L/τ ≈ ${kappa.mean.toExponential(2)}`,
    tableHeader(config.variants),
    ...finalTable('per feature', points, config.variants),
  ]
  return E.right({
    experiment: 'sid-fig2',
    config,
    rows: rowsOf('sid-fig2', results),
    figures: [
      {
        file: 'fig2.svg',
        panels: [{ title: `${law} (κ ≈ ${kappa.mean.toExponential(1)})`, series: seriesOf(points, config.variants) }],
        options: {
          title: `SID Fig. 2: MNIST odd/even, one λ per feature, ${config.runs} runs`,
          xLabel: 'epochs',
          yLabel: '‖∇̂f − ∇f‖²',
          logY: true,
          width: 420,
          height: 280,
        },
      },
    ],
    summary: lines.join('\n'),
    details: { aggregate: points, kappa, tau, tasks: results.map(untimed) },
    timing: timingOf(started, opts.workers, results),
  })
}
