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
 * with ηₜ = β/(γ + t), β = γ = 2/(1 − q²)). The stochastic variants run with each sampling of
 * the configuration: 'independent' minibatches (a fresh draw at every step, as SID's
 * Assumption C and Thm 4.1–5.1 assume) or 'reshuffle' (consecutive batches of one permutation
 * per epoch, as data loaders and the PyTorch peer draw); an arm is a variant with a sampling
 * (Batch, which draws nothing, is one arm). Every budget E is an independent SID run from
 * w₀ = v₀ = 0, as in the paper. The lower-level iterates of an arm are computed once, up to
 * the largest budget, and SID for budget E is started from the stored wₜ (t = t(E)) with no
 * further lower steps: the lower solver's stream for budget E is a prefix of the one for the
 * largest budget (same seed, same schedule, same sampling), so the numbers are exactly those of
 * independent runs (a test checks this bit for bit).
 *
 * A run r has its own train/validation split (mnistOddEven({ seed: seed + r }); with
 * `split: 'reference'` every run uses the peers' reference split) and its own minibatch stream
 * (SID seed seed·100003 + r, shared by the arms and the λ values of the run: common random
 * numbers). The ground truth per (run, λ) comes from truth.ts. A task (one per run × λ for
 * Fig. 1, one per run for Fig. 2) runs on a pool of worker threads (pool.ts) as pieces: its
 * ground truth, and each arm at every budget; the errors are formed when the pieces are put
 * together. A run's split is loaded once and shared by the workers through a
 * SharedArrayBuffer (common.ts); Fig. 1 keeps one split in memory at a time.
 *
 * The figures draw, for each arm and budget, the median of the squared error over the runs and
 * the band between its 10% and 90% quantiles; the tables give the same and the means, marked as
 * such (the errors are heavy-tailed: a mean over a few runs is not a stable estimate).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { exactCost, fullBatchCost, presetSteps, sidCost } from '../config/cost.js'
import { MNIST_D, type MnistOddEven } from '../data/mnist.js'
import { sidPreset, type PresetName, type PresetOptions } from '../hypergrad/presets.js'
import { sid, sidStreams, type SidOptions } from '../hypergrad/sid.js'
import type { RVec, Vec } from '../linalg/types.js'
import { linearSystemSigma2 } from '../bounds/constants.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { logisticProblem, type Regularization } from '../problems/logistic.js'
import { seed as rngSeed, uniformsIn } from '../random/rng.js'
import { tap } from '../solvers/combinators.js'
import type { Sampling } from '../solvers/lower/sgd.js'
import { runLower } from '../solvers/run.js'
import type { Panel, Series } from '../report/figure.js'
import {
  bandNote,
  bandSeries,
  finiteOrNull,
  fmt,
  fmtSpread,
  meanStd,
  maxOf,
  median,
  mnistProblemBytes,
  mnistSizes,
  outcomeOf,
  resultBytes,
  runSweep,
  spread,
  splitBytes,
  splitOf,
  WORKER_BYTES,
  type ExperimentSweep,
  type SharedSplit,
  type Spread,
  type SplitSpec,
  type Sweep,
  type SweepTiming,
  type TaskGroup,
} from './common.js'
import type { Task } from './pool.js'
import type { CsvRow, ExperimentCost, ExperimentOutput, RunOptions, TaskOutcome } from './types.js'
import { logisticTruth, type LogisticTruth } from './truth.js'

// ── configuration ────────────────────────────────────────────────────────────────────────────

/** The legend label of each SID preset, as the paper names them. */
export const VARIANT_LABEL: Readonly<Record<PresetName, string>> = {
  batch: 'Batch',
  stochConst: 'Stoch const',
  stochDec: 'Stoch dec',
  twoPhase: 'Two-phase',
}

/** The variants of SID §6 that the figures run ('twoPhase' needs the linear system's σ₂, which the figures do not estimate). */
export type SidVariant = 'batch' | 'stochConst' | 'stochDec'

/** The variants of SID §6, in the paper's order. */
export const SID_VARIANTS: ReadonlyArray<SidVariant> = ['batch', 'stochConst', 'stochDec']

/** The samplings of the stochastic variants. */
export const SAMPLINGS: ReadonlyArray<Sampling> = ['independent', 'reshuffle']

/** How the tables and panels name a sampling. */
export const SAMPLING_LABEL: Readonly<Record<Sampling, string>> = {
  independent: 'independent minibatches',
  reshuffle: 'one reshuffle per epoch',
}

/** What both figures share. */
export interface SidCommonConfig {
  /** Independent runs (5 in Fig. 1, 10 in Fig. 2; 16 by default here, for quantiles). */
  readonly runs: number
  /** The epoch budgets E (each an independent SID run): the x axis. */
  readonly epochs: ReadonlyArray<number>
  readonly variants: ReadonlyArray<SidVariant>
  /**
   * How the stochastic variants draw their minibatches, each sampling a panel of its own:
   * 'independent' (SID's assumption) and/or 'reshuffle' (one permutation per epoch).
   */
  readonly sampling: ReadonlyArray<Sampling>
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
  runs: 16,
  epochs: [2, 4, 10, 20, 40, 60],
  variants: SID_VARIANTS,
  sampling: SAMPLINGS,
  nTrain: 5000,
  nVal: 5000,
  batchSize: 50,
  split: 'seeded' as const,
  seed: 0,
}

/** The defaults of sid-fig1: 16 runs, both samplings, λ ∈ {1, 10, 100, 1000} (κ = L/τ ≈ 4.85e4/λ), budgets 2–60 epochs. */
export const sidFig1Defaults: SidFig1Config = { ...COMMON_DEFAULTS, lambdas: [1, 10, 100, 1000] }

/** The defaults of sid-fig2: 16 runs, both samplings, εᵢ ~ U[−2, 2], budgets 2–60 epochs. */
export const sidFig2Defaults: SidFig2Config = { ...COMMON_DEFAULTS, epsLow: -2, epsHigh: 2, lambdaScale: 1 }

/** A variant with the sampling of its minibatches (null for Batch, which draws none). */
export interface Arm {
  readonly variant: PresetName
  readonly sampling: Sampling | null
}

/** The arms of a configuration: Batch once, each stochastic variant once per sampling (variants first, then samplings, in their orders). */
export const armsOf = (variants: ReadonlyArray<PresetName>, samplings: ReadonlyArray<Sampling>): Arm[] =>
  variants.flatMap((variant): Arm[] => (variant === 'batch' ? [{ variant, sampling: null }] : samplings.map((sampling) => ({ variant, sampling }))))

// ── one task ─────────────────────────────────────────────────────────────────────────────────

/** The input of one task (a structured-clone value: every random choice derives from it). */
export interface SidTaskInput extends Pick<SidCommonConfig, 'epochs' | 'sampling' | 'nTrain' | 'nVal' | 'batchSize' | 'split' | 'seed'> {
  readonly regularization: Regularization
  readonly run: number
  /** The scalar λ (regularization 'scalar'). */
  readonly lambda?: number
  /** λᵢ = lambdaScale·e^{εᵢ}, εᵢ ~ U[epsLow, epsHigh] (regularization 'perFeature'). */
  readonly epsLow?: number
  readonly epsHigh?: number
  readonly lambdaScale?: number
  /** The variants run (the task's arms with the samplings: `armsOf(variants, sampling)`). */
  readonly variants: ReadonlyArray<PresetName>
  /** The run's split, posted with the task by `runOutcomes` (loaded by the task when absent). */
  readonly sharedSplit?: SharedSplit
}

/** One SID run: an arm at a budget. */
export interface SidCell {
  readonly variant: PresetName
  /** How the minibatches were drawn (null for Batch). */
  readonly sampling: Sampling | null
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

const sqDist = (a: RVec, b: RVec): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!
    s += d * d
  }
  return s
}

/** SID with one preset at one budget: the estimate (null when a stage diverged). */
export interface SidEstimate {
  readonly variant: PresetName
  /** The sampling of the stochastic presets (null for Batch). */
  readonly sampling: Sampling | null
  readonly epochs: number
  readonly t: number
  readonly k: number
  readonly gradient: Vec | null
  readonly status: 'maxIter' | 'converged' | 'diverged'
}

/** The options of a preset that an arm fixes for every budget. */
export type ArmOptions = Required<Pick<PresetOptions, 'batchSize' | 'seed'>> & Pick<PresetOptions, 'sampling' | 'sigma2Linear'>

/**
 * SID with one preset at several epoch budgets, each an independent run from w₀ = v₀ = 0, with
 * the lower-level iterates shared across budgets where the preset allows it (see the module
 * comment): the estimate for budget E equals sidWithPreset(name, problem, λ, { ...opts,
 * epochs: E }).gradient exactly. One estimate per budget (ascending); a stage that diverged
 * gives status 'diverged' and a null gradient. `opts.sampling` is ignored by 'batch', which
 * draws no minibatch (its estimates say sampling null).
 */
export const sidEstimatesAtBudgets = (
  problem: BilevelProblem,
  lambda: RVec,
  variant: PresetName,
  budgets: ReadonlyArray<number>,
  opts: ArmOptions,
): E.Either<HypergradError, SidEstimate[]> => {
  const { seed } = opts
  const sampling = variant === 'batch' ? null : (opts.sampling ?? 'independent')
  const sorted = [...new Set(budgets)].sort((a, b) => a - b)
  const plans: Array<{ readonly epochs: number; readonly opts: SidOptions }> = []
  for (const epochs of sorted) {
    const o = sidPreset(variant, problem, lambda, { ...opts, epochs })
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
  // The lower stage runs through the shared driver (the same divergence test as sid's): an
  // observer keeps the iterates at the wanted t; those at or past a divergence are dropped.
  const lowerPrefix = (opts: SidOptions, ts: ReadonlySet<number>): E.Either<HypergradError, void> => {
    const keep = tap(opts.lower, (st) => {
      if (ts.has(st.iter)) prefixes.set(st.iter, st.w)
    })
    const r = runLower(keep, problem, lambda, new Float64Array(problem.dim), sidStreams(seed)[0], { maxIter: opts.t })
    if (E.isLeft(r)) return r
    const failed = r.right.divergedAt
    if (failed !== undefined) for (const t of [...prefixes.keys()]) if (t >= failed) prefixes.delete(t)
    return E.right(undefined)
  }
  if (shared) {
    const r = lowerPrefix(plans[plans.length - 1]!.opts, new Set(plans.map((p) => p.opts.t)))
    if (E.isLeft(r)) return r
  }
  const out: SidEstimate[] = []
  for (const { epochs, opts } of plans) {
    if (!shared) {
      prefixes.clear()
      const r = lowerPrefix(opts, new Set([opts.t]))
      if (E.isLeft(r)) return r
    }
    const wt = prefixes.get(opts.t)
    if (wt === undefined) {
      out.push({ variant, sampling, epochs, t: opts.t, k: opts.k, gradient: null, status: 'diverged' })
      continue
    }
    const r = sid(problem, lambda, { ...opts, t: 0, w0: wt })
    if (E.isLeft(r)) return r
    const res = r.right
    const ok = res.status !== 'diverged'
    out.push({ variant, sampling, epochs, t: opts.t, k: opts.k, gradient: ok ? res.gradient : null, status: ok ? res.status : 'diverged' })
  }
  return E.right(out)
}

/** The cell of an estimate: its squared error against `truth` (null, status 'diverged', when not finite). */
export const cellOf = (e: SidEstimate, truth: RVec): SidCell => {
  const norm2 = sqDist(truth, new Float64Array(truth.length))
  const err = e.gradient === null ? NaN : sqDist(e.gradient, truth)
  return {
    variant: e.variant,
    sampling: e.sampling,
    epochs: e.epochs,
    t: e.t,
    k: e.k,
    sqErr: finiteOrNull(err),
    relSqErr: finiteOrNull(err / norm2),
    status: e.gradient !== null && Number.isFinite(err) ? e.status : 'diverged',
  }
}

/**
 * {@link sidEstimatesAtBudgets} with the squared error of each estimate against `truth`: one
 * cell per budget (ascending); a stage that diverged gives status 'diverged' and null errors.
 */
export const sidAtBudgets = (
  problem: BilevelProblem,
  lambda: RVec,
  variant: PresetName,
  budgets: ReadonlyArray<number>,
  opts: ArmOptions,
  truth: RVec,
): E.Either<HypergradError, SidCell[]> => E.map((es: SidEstimate[]) => es.map((e) => cellOf(e, truth)))(sidEstimatesAtBudgets(problem, lambda, variant, budgets, opts))

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

/** The run's split and λ of a task (scalar, or drawn per feature from the run's stream). */
const taskSetup = (input: SidTaskInput): E.Either<HypergradError, { readonly data: MnistOddEven; readonly lambda: Vec; readonly loadSeconds: number }> => {
  const t0 = performance.now()
  const data = splitOf(input.split, input.seed + input.run, input.nTrain, input.nVal, input.sharedSplit)
  if (E.isLeft(data)) return data
  const p = data.right.train.X.cols
  let lambda: Vec
  if (input.regularization === 'scalar') {
    if (input.lambda === undefined) return E.left(hgError('config', 'sidTask: a scalar task needs lambda'))
    lambda = Float64Array.of(input.lambda)
  } else {
    lambda = perFeatureLambda(input.seed, input.run, p, input.epsLow ?? -2, input.epsHigh ?? 2, input.lambdaScale ?? 1)
  }
  return E.right({ data: data.right, lambda, loadSeconds: (performance.now() - t0) / 1000 })
}

/** The ground truth of a task, with its gradient (the part of a task that needs no SID run). */
export interface SidTruthPiece {
  readonly summary: TruthSummary
  readonly gradient: Vec
  readonly loadSeconds: number
}

/** The SID estimates of one arm of a task, and the problem's constants. */
export interface SidVariantPiece {
  readonly variant: PresetName
  readonly sampling: Sampling | null
  readonly estimates: ReadonlyArray<SidEstimate>
  readonly kappa: number
  readonly q: number
  readonly alpha: number
  readonly lambdaRange: { readonly min: number; readonly median: number; readonly max: number }
  readonly seconds: number
}

const truthPiece = (input: SidTaskInput): E.Either<HypergradError, SidTruthPiece> => {
  const setup = taskSetup(input)
  if (E.isLeft(setup)) return setup
  const { data, lambda, loadSeconds } = setup.right
  const truth = logisticTruth(data.train, data.validation, lambda, input.regularization)
  if (E.isLeft(truth)) return truth
  return E.right({ summary: summarizeTruth(truth.right), gradient: truth.right.gradient, loadSeconds })
}

const variantPiece = (input: SidTaskInput, arm: Arm): E.Either<HypergradError, SidVariantPiece> => {
  const setup = taskSetup(input)
  if (E.isLeft(setup)) return setup
  const { data, lambda } = setup.right
  const s0 = performance.now()
  const problemE = logisticProblem(data.train, data.validation, lambda, { regularization: input.regularization })
  if (E.isLeft(problemE)) return problemE
  const problem = problemE.right
  const { tau, L } = problem.lower.curvature(lambda)
  // 'twoPhase' needs σ₂ of the linear system's map (Thm 4.3): certified at w = 0, where every
  // per-sample logistic Hessian is largest (ψ'' ≤ ψ''(0) = 1/4), so it bounds σ₂ at every w.
  const sigma2 = arm.variant === 'twoPhase' ? linearSystemSigma2(problem, lambda, new Float64Array(problem.dim)) : E.right(undefined)
  if (E.isLeft(sigma2)) return sigma2
  const estimates = sidEstimatesAtBudgets(problem, lambda, arm.variant, input.epochs, {
    batchSize: input.batchSize,
    seed: sidSeedOf(input.seed, input.run),
    ...(arm.sampling === null ? {} : { sampling: arm.sampling }),
    ...(sigma2.right === undefined ? {} : { sigma2Linear: sigma2.right }),
  })
  if (E.isLeft(estimates)) return estimates
  let lo = Infinity
  let hi = -Infinity
  for (const l of lambda) {
    lo = Math.min(lo, l)
    hi = Math.max(hi, l)
  }
  return E.right({
    variant: arm.variant,
    sampling: arm.sampling,
    estimates: estimates.right,
    kappa: L / tau,
    q: problem.contraction(lambda),
    alpha: problem.alpha,
    lambdaRange: { min: lo, median: median(lambda), max: hi },
    seconds: (performance.now() - s0) / 1000,
  })
}

/** The ground truth of a task, as a pool task (its split and λ as in {@link sidTask}). */
export const sidTruthTask = (input: SidTaskInput): TaskOutcome<SidTruthPiece> => outcomeOf(truthPiece(input))

/** One arm of a task at every budget, as a pool task: `armsOf(input.variants, input.sampling)` must be one arm. */
export const sidVariantTask = (input: SidTaskInput): TaskOutcome<SidVariantPiece> => {
  const arms = armsOf(input.variants, input.sampling)
  const arm = arms[0]
  if (arms.length !== 1 || arm === undefined)
    return { ok: false, error: hgError('config', `sidVariantTask: needs exactly one variant and sampling, got ${arms.length} arms`) }
  return outcomeOf(variantPiece(input, arm))
}

/** The name of an arm in timings: the variant, with its sampling. */
const armKey = (a: Arm): string => (a.sampling === null ? a.variant : `${a.variant}/${a.sampling}`)

/**
 * A task's result from its pieces: the truth, then one piece per arm (in the order of
 * `armsOf(input.variants, input.sampling)`); the errors are computed here, against the truth's
 * gradient.
 */
export const assembleSidTask = (input: SidTaskInput, truth: SidTruthPiece, pieces: ReadonlyArray<SidVariantPiece>): SidTaskResult => {
  const first = pieces[0]
  const cells: SidCell[] = []
  const sidSeconds: Record<string, number> = {}
  for (const v of pieces) {
    cells.push(...v.estimates.map((e) => cellOf(e, truth.gradient)))
    sidSeconds[armKey(v)] = v.seconds
  }
  const lambdaRange = first?.lambdaRange ?? { min: input.lambda ?? NaN, median: input.lambda ?? NaN, max: input.lambda ?? NaN }
  return {
    run: input.run,
    lambda: input.regularization === 'scalar' ? (input.lambda ?? null) : null,
    lambdaRange,
    kappa: first?.kappa ?? NaN,
    q: first?.q ?? NaN,
    alpha: first?.alpha ?? NaN,
    truth: truth.summary,
    cells,
    seconds: { load: truth.loadSeconds, truth: truth.summary.seconds, sid: sidSeconds },
  }
}

/**
 * One task of sid-fig1 (a run and a scalar λ) or sid-fig2 (a run, λ drawn per feature), in
 * this thread: load the run's split, compute the ground truth (truth.ts), then every arm at
 * every budget (`sidAtBudgets`). The figures run the same pieces (`sidTruthTask`,
 * `sidVariantTask`) as separate pool tasks, with the same result. Returns a structured-clone
 * outcome; a Left of the library becomes `{ ok: false, error }`.
 */
export const sidTask = (input: SidTaskInput): TaskOutcome<SidTaskResult> => {
  const truth = truthPiece(input)
  if (E.isLeft(truth)) return outcomeOf(truth)
  const pieces: SidVariantPiece[] = []
  for (const arm of armsOf(input.variants, input.sampling)) {
    const v = variantPiece(input, arm)
    if (E.isLeft(v)) return outcomeOf(v)
    pieces.push(v.right)
  }
  return outcomeOf(E.right(assembleSidTask(input, truth.right, pieces)))
}

/** The share of a variant's run time, to start the longest pieces first (measured on sid-fig1). */
const VARIANT_COST: Readonly<Record<PresetName, number>> = { stochDec: 2, stochConst: 2, twoPhase: 2, batch: 1 }

/** Where each task's pieces are among the pool tasks: its truth, then its arms (in `armsOf` order). */
interface PieceIndex {
  readonly input: SidTaskInput
  truth: number
  readonly arms: number[]
}

/**
 * The pool tasks of the figures' tasks, as pieces, and where each task's pieces are. Per run
 * (one group: its split) the truths go first, the slowest first (for a scalar λ the smallest:
 * the worst conditioned), then the arm pieces, the slowest first. With pieces of 0.2–2 s
 * instead of tasks of 2–3 s, the workers finish a run within a fraction of a second of each
 * other, which matters when the next run's split waits for a free slot. The layout depends on
 * the inputs alone, so that `assemble` finds the pieces again.
 */
const sidLayout = (runs: ReadonlyArray<{ readonly split: SplitSpec; readonly inputs: ReadonlyArray<SidTaskInput> }>, splitSlots?: number): { readonly sweep: Sweep; readonly where: ReadonlyArray<PieceIndex> } => {
  const groups: TaskGroup[] = []
  const where: PieceIndex[] = []
  let index = 0
  for (const run of runs) {
    const entries: PieceIndex[] = run.inputs.map((input) => ({ input, truth: -1, arms: armsOf(input.variants, input.sampling).map(() => -1) }))
    const byCost = [...entries].sort((a, b) => (a.input.lambda ?? 0) - (b.input.lambda ?? 0))
    const tasks: Task[] = []
    for (const e of byCost) {
      tasks.push({ module: 'sidFigures', fn: 'sidTruthTask', input: e.input })
      e.truth = index++
    }
    const pieces = entries.flatMap((e) =>
      armsOf(e.input.variants, e.input.sampling).map((arm, k) => ({
        e,
        k,
        cost: VARIANT_COST[arm.variant],
        task: { module: 'sidFigures', fn: 'sidVariantTask', input: { ...e.input, variants: [arm.variant], sampling: arm.sampling === null ? e.input.sampling : [arm.sampling] } },
      })),
    )
    pieces.sort((a, b) => b.cost - a.cost) // stable: ties keep the task and arm order
    for (const piece of pieces) {
      tasks.push(piece.task)
      piece.e.arms[piece.k] = index++
    }
    groups.push({ split: run.split, tasks })
    where.push(...entries)
  }
  return { sweep: { groups, ...(splitSlots === undefined ? {} : { splitSlots }) }, where }
}

/** Each task put together again from the pieces' results (in pool-task order): results in the order of the inputs. */
const assembleTasks = (where: ReadonlyArray<PieceIndex>, results: ReadonlyArray<unknown>): SidTaskResult[] =>
  where.map((w) => assembleSidTask(w.input, results[w.truth] as SidTruthPiece, w.arms.map((i) => results[i] as SidVariantPiece)))

// ── cost ─────────────────────────────────────────────────────────────────────────────────────

/**
 * What sid-fig1 (one task per run and λ: `lambdas` values) or sid-fig2 (`lambdas` = 1, λ per
 * feature) costs, before any work: per task a ground truth (at least one Newton step) and, per
 * arm (a variant with a sampling), the lower stream to the largest budget (each budget its own for 'twoPhase') and the
 * linear stage of every budget; each worker holds the problem (and for sid-fig2 a split of its
 * own), the main thread the cells of every task.
 */
export const sidFiguresCost = (c: SidCommonConfig, lambdas: number, perFeature: boolean): ExperimentCost => {
  const s = mnistSizes(c.nTrain, perFeature ? MNIST_D : 1)
  const budgets = [...new Set(c.epochs)].sort((a, b) => a - b)
  const largest = budgets[budgets.length - 1] ?? 0
  const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)
  let sid = 0
  const arms = armsOf(c.variants, c.sampling)
  for (const { variant: v } of arms) {
    const steps = (e: number) => presetSteps(s, v, e, c.batchSize).steps
    const seconds = (t: number, k: number) => (v === 'batch' ? fullBatchCost(s, t + k).seconds : sidCost(s, t, k, c.batchSize).seconds)
    const lower = v === 'twoPhase' ? sum(budgets.map((e) => seconds(Math.ceil(steps(e) / 2), 0))) : seconds(Math.ceil(steps(largest) / 2), 0)
    sid += lower + sum(budgets.map((e) => seconds(0, Math.floor(steps(e) / 2))))
  }
  const tasks = c.runs * lambdas
  const split = splitBytes(c.nTrain + c.nVal)
  return {
    seconds: tasks * (exactCost(s).seconds + sid),
    results: { bytes: tasks * resultBytes(8 * arms.length * budgets.length + 40), heapBytes: tasks * resultBytes(8 * arms.length * budgets.length + 40) },
    perWorker: { bytes: WORKER_BYTES + mnistProblemBytes(c.nTrain) + budgets.length * 8 * MNIST_D + (perFeature ? split : 0), heapBytes: 0 },
    shared: perFeature ? 0 : split,
    tasks: tasks * (1 + arms.length),
  }
}

// ── aggregation, figures and tables ─────────────────────────────────────────────────────────

/** The spread over runs of one (panel, arm, budget). */
export interface SidPoint {
  readonly variant: PresetName
  readonly sampling: Sampling | null
  readonly epochs: number
  /** ‖∇̂f − ∇f‖² over the runs (a diverged run counts as an unbounded error). */
  readonly sqErr: Spread
  /** ‖∇̂f − ∇f‖²/‖∇f‖² over the runs. */
  readonly relSqErr: Spread
  /** Runs that diverged at this budget. */
  readonly diverged: number
}

const aggregate = (results: ReadonlyArray<SidTaskResult>, arms: ReadonlyArray<Arm>, epochs: ReadonlyArray<number>): SidPoint[] => {
  const budgets = [...new Set(epochs)].sort((a, b) => a - b)
  const points: SidPoint[] = []
  for (const { variant, sampling } of arms) {
    for (const e of budgets) {
      const cells = results.flatMap((r) => r.cells.filter((c) => c.variant === variant && c.sampling === sampling && c.epochs === e))
      points.push({
        variant,
        sampling,
        epochs: e,
        sqErr: spread(cells.map((c) => c.sqErr), 'unbounded'),
        relSqErr: spread(cells.map((c) => c.relSqErr), 'unbounded'),
        diverged: cells.filter((c) => c.status === 'diverged').length,
      })
    }
  }
  return points
}

/** The samplings that get panels of their own: those of the configuration, or none when every arm is Batch. */
const panelSamplings = (c: SidCommonConfig): ReadonlyArray<Sampling | null> => (armsOf(c.variants, c.sampling).some((a) => a.sampling !== null) ? c.sampling : [null])

/** The arms drawn in the panel of a sampling: Batch, and the stochastic arms of that sampling. */
const armsIn = (c: SidCommonConfig, sampling: Sampling | null): Arm[] => armsOf(c.variants, c.sampling).filter((a) => a.sampling === null || a.sampling === sampling)

/** Where a panel's title names its sampling. */
const samplingSuffix = (sampling: Sampling | null): string => (sampling === null ? '' : `, ${SAMPLING_LABEL[sampling]}`)

const seriesOf = (points: ReadonlyArray<SidPoint>, arms: ReadonlyArray<Arm>): Series[] =>
  arms.map((a) => {
    const ps = points.filter((p) => p.variant === a.variant && p.sampling === a.sampling)
    return bandSeries(VARIANT_LABEL[a.variant], ps.map((p) => p.epochs), ps.map((p) => p.sqErr), true)
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
      sampling: c.sampling,
      epochs: c.epochs,
      t: c.t,
      k: c.k,
      sq_error: c.sqErr,
      rel_sq_error: c.relSqErr,
      true_grad_norm: r.truth.gradNorm,
      status: c.status,
    })),
  )

const CELL_WIDTH = 30

/**
 * The tables of final errors (at the last budget), one line per panel row (a λ and a
 * sampling): the squared error (median [10%, 90%] over the runs), the relative squared error,
 * and the means, marked as means.
 */
const finalTables = (c: SidCommonConfig, rows: ReadonlyArray<{ readonly label: string; readonly points: ReadonlyArray<SidPoint> }>): string[] => {
  const lastE = maxOf(c.epochs)
  const labels = rows.flatMap((r) => panelSamplings(c).map((s) => `${r.label}${s === null ? '' : `, ${s}`}`))
  const width = Math.max(14, ...labels.map((l) => l.length))
  const header = `${''.padEnd(width)} ${c.variants.map((v) => VARIANT_LABEL[v].padEnd(CELL_WIDTH)).join(' ')}`
  const table = (title: string, cell: (p: SidPoint) => string): string[] => [
    title,
    header,
    ...rows.flatMap((r) =>
      panelSamplings(c).map((s) => {
        const cells = c.variants.map((v) => {
          const p = r.points.find((q) => q.variant === v && q.sampling === (v === 'batch' ? null : s) && q.epochs === lastE)
          return p === undefined ? '—' : `${cell(p)}${p.diverged > 0 ? ` (${p.diverged} div.)` : ''}`
        })
        return `${`${r.label}${s === null ? '' : `, ${s}`}`.padEnd(width)} ${cells.map((x) => x.padEnd(CELL_WIDTH)).join(' ')}`
      }),
    ),
  ]
  return [
    ...table(`squared error ‖∇̂f − ∇f‖² after ${lastE} epochs: median [10%, 90%] over ${c.runs} runs`, (p) => fmtSpread(p.sqErr)),
    ...table(`relative squared error ‖∇̂f − ∇f‖²/‖∇f‖²: median [10%, 90%]`, (p) => fmtSpread(p.relSqErr)),
    ...table(`means over the runs (heavy-tailed errors: the mean of a few runs is not a stable estimate): squared error, relative`, (p) => `${fmt(p.sqErr.mean)}, rel ${fmt(p.relSqErr.mean)}`),
  ]
}

/** The timing of a run: wall clock, and each task's seconds by phase (kept out of `details`, so that results are reproducible bit for bit). */
const timingOf = (timing: SweepTiming, results: ReadonlyArray<SidTaskResult>) => ({
  ...timing,
  taskSeconds: results.map((r) => r.seconds.load + r.seconds.truth + Object.values(r.seconds.sid).reduce((a, b) => a + b, 0)),
  phases: results.map((r) => ({ run: r.run, lambda: r.lambda, ...r.seconds, newton: r.truth.seconds })),
})

/** A task's result without its timings (for results.json's reproducible part). */
const untimed = (r: SidTaskResult) => {
  const { seconds: _s, truth, ...rest } = r
  const { seconds: _t, ...truthRest } = truth
  return { ...rest, truth: truthRest }
}

/** The split of run r (as `sidTask` loads it). */
const splitSpecOf = (c: SidCommonConfig, run: number) => ({ split: c.split, seed: c.seed + run, nTrain: c.nTrain, nVal: c.nVal })

const taskBase = (c: SidCommonConfig) => ({
  epochs: [...c.epochs],
  variants: [...c.variants],
  sampling: [...c.sampling],
  nTrain: c.nTrain,
  nVal: c.nVal,
  batchSize: c.batchSize,
  split: c.split,
  seed: c.seed,
})

const statsTitle = (c: SidCommonConfig): string => `${bandNote(c.runs)}`

// One task per (run, λ), run as pieces; the tasks of a run share its split. One split in
// memory at a time: a run's pieces keep both workers busy to its end.
const sidFig1Layout = (c: SidFig1Config) =>
  sidLayout(
    Array.from({ length: c.runs }, (_, run) => ({
      split: splitSpecOf(c, run),
      inputs: c.lambdas.map((lambda) => ({ ...taskBase(c), regularization: 'scalar' as const, run, lambda })),
    })),
    1,
  )

/**
 * sid-fig1 (SID Fig. 1): for every run and λ, the squared hypergradient error of each arm after
 * each budget; figure fig1.svg with one panel per λ and sampling (median and 10–90% band over
 * the runs, log scale).
 */
export const sidFig1: ExperimentSweep<SidFig1Config> = {
  sweep: (c) => sidFig1Layout(c).sweep,
  assemble: (config, raw, timing) => {
    const results = assembleTasks(sidFig1Layout(config).where, raw)
    const arms = armsOf(config.variants, config.sampling)
    const panels: Panel[] = []
    const perLambda: Array<{ readonly lambda: number; readonly kappa: number; readonly points: SidPoint[] }> = []
    for (const lambda of config.lambdas) {
      const rs = results.filter((r) => r.lambda === lambda)
      perLambda.push({ lambda, kappa: spread(rs.map((r) => r.kappa)).median, points: aggregate(rs, arms, config.epochs) })
    }
    for (const sampling of panelSamplings(config))
      for (const { lambda, kappa, points } of perLambda)
        panels.push({ title: `λ = ${lambda} (κ ≈ ${kappa.toExponential(1)})${samplingSuffix(sampling)}`, series: seriesOf(points, armsIn(config, sampling)) })
    const lines = [`sid-fig1 (${config.split} split${config.split === 'seeded' ? 's' : ''}, ${config.runs} runs)`, ...finalTables(config, perLambda.map((p) => ({ label: `λ = ${p.lambda}`, points: p.points })))]
    return E.right({
      experiment: 'sid-fig1',
      config,
      rows: rowsOf('sid-fig1', results),
      figures: [
        {
          file: 'fig1.svg',
          panels,
          options: {
            title: `SID Fig. 1: MNIST odd/even, scalar λ; ${statsTitle(config)}`,
            xLabel: 'epochs',
            yLabel: '‖∇̂f − ∇f‖²',
            logY: true,
            columns: config.lambdas.length,
          },
        },
      ],
      summary: lines.join('\n'),
      details: { aggregate: perLambda, tasks: results.map(untimed) },
      timing: timingOf(timing, results),
    })
  },
}

/** Run sid-fig1 (see {@link sidFig1}). */
export const runSidFig1 = (config: SidFig1Config, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<SidFig1Config>>> => runSweep(sidFig1, config, opts)

// One task per run, run as pieces (a truth and a piece per arm); up to one split per worker.
const sidFig2Layout = (c: SidFig2Config) =>
  sidLayout(
    Array.from({ length: c.runs }, (_, run) => ({
      split: splitSpecOf(c, run),
      inputs: [{ ...taskBase(c), regularization: 'perFeature' as const, run, epsLow: c.epsLow, epsHigh: c.epsHigh, lambdaScale: c.lambdaScale }],
    })),
  )

/**
 * sid-fig2 (SID Fig. 2): λᵢ = e^{εᵢ} per feature, drawn per run; the squared hypergradient error
 * of each arm after each budget; figure fig2.svg (one panel per sampling, median and 10–90%
 * band over the runs).
 */
export const sidFig2: ExperimentSweep<SidFig2Config> = {
  sweep: (c) => sidFig2Layout(c).sweep,
  assemble: (config, raw, timing) => {
    const results = assembleTasks(sidFig2Layout(config).where, raw)
    const points = aggregate(results, armsOf(config.variants, config.sampling), config.epochs)
    const kappa = spread(results.map((r) => r.kappa))
    const tau = spread(results.map((r) => r.lambdaRange.min))
    const law = `λᵢ = ${config.lambdaScale === 1 ? '' : `${config.lambdaScale}·`}e^εᵢ, εᵢ ~ U[${config.epsLow}, ${config.epsHigh}]`
    const lines = [
      `sid-fig2 (${config.split} split${config.split === 'seeded' ? 's' : ''}, ${config.runs} runs): ${law}: τ = min λᵢ ≈ ${tau.median.toPrecision(3)}, κ = L/τ ≈ ${kappa.median.toExponential(2)} (medians over the runs)`,
      ...finalTables(config, [{ label: 'per feature', points }]),
    ]
    const panels: Panel[] = panelSamplings(config).map((sampling) => ({
      title: `${law} (κ ≈ ${kappa.median.toExponential(1)})${samplingSuffix(sampling)}`,
      series: seriesOf(points, armsIn(config, sampling)),
    }))
    return E.right({
      experiment: 'sid-fig2',
      config,
      rows: rowsOf('sid-fig2', results),
      figures: [
        {
          file: 'fig2.svg',
          panels,
          options: {
            title: `SID Fig. 2: MNIST odd/even, one λ per feature; ${statsTitle(config)}`,
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
      timing: timingOf(timing, results),
    })
  },
}

/** Run sid-fig2 (see {@link sidFig2}). */
export const runSidFig2 = (config: SidFig2Config, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<SidFig2Config>>> => runSweep(sidFig2, config, opts)
