/**
 * The outer loop of bilevel optimization: an outer optimizer (src/outer/optimizers) proposes
 * hyperparameters λ, a `HyperOracle` — any hypergradient method of the library — evaluates f and
 * ∇̂f there, and the optimizer consumes the evaluation and proposes the next λ, until a stopping
 * rule holds. The lower-level iterate and the linear-system solution are carried from the last
 * accepted point to every next evaluation (warm starts, as HOAG and sparse-ho do); line-search
 * trials start from the last accepted point too, never from a rejected trial. The inner
 * accuracy may follow the hypergradient norm (adaptive), or the optimizer's own schedule (HOAG).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { HypergradResult } from '../hypergrad/types.js'
import { optimizerFromConfig, optimizerNames, type OptimizerConfig, type OptimizerName } from './optimizers/config.js'
import { option, outerField, NONNEGATIVE, POSITIVE } from './optimizers/options.js'
import { isStop, type OuterOptimizer, type Proposal } from './optimizers/types.js'

/** Where the inner solvers start: the last accepted point's final iterates (undefined: cold start). */
export interface WarmStart {
  readonly w?: Vec
  readonly v?: Vec
}

/** What an evaluation asks of a hypergradient method. */
export interface OracleRequest {
  readonly lambda: RVec
  readonly warm: WarmStart
  /** Target accuracy of ‖∇̂f − ∇f‖ (adaptive mode, HOAG), or undefined for the method's fixed t, k. */
  readonly tolerance?: number
  /** The outer step this evaluation is for (the trajectory index it takes if accepted); line-search trials of one step share it. */
  readonly step: number
  /** The index of this oracle call (0, 1, 2, …): unique per evaluation. */
  readonly evaluation: number
}

/** A hypergradient computation; `bound` is the certified (a posteriori) error bound if known. */
export type HyperOracle = (req: OracleRequest) => E.Either<HypergradError, HypergradResult & { readonly bound?: number }>

export interface TuneOptions extends Omit<OptimizerConfig, 'optimizer'> {
  /**
   * A name (the optimizer is then built from this object's options by `optimizerFromConfig`:
   * stepSize, logScale, bounds, memory, …) or an optimizer value with its transforms chained on
   * (then those options must be absent).
   */
  readonly optimizer: OptimizerName | OuterOptimizer
  /** The most accepted steps (trajectory entries): an integer ≥ 1. */
  readonly steps: number
  /** The most oracle calls, trials included; default 100·steps (the library's optimizers take at most ~40 per step). */
  readonly maxEvaluations?: number
  /** A wall-time budget: no evaluation starts after this many seconds from the start of the loop. */
  readonly maxSeconds?: number
  /** Warm-start the lower iterate and/or the linear-system solution (default both). */
  readonly warmStart?: boolean | { readonly lower: boolean; readonly linear: boolean }
  /**
   * Inner accuracy: a fixed target, 'adaptive' (a fraction `adaptiveFactor`, default 0.1, of the
   * previous accepted hypergradient norm, never above `initialTolerance` — the first step's target,
   * default 1 — nor below `minTolerance`, default 1e-10), or undefined (the method's own t, k).
   * Not with hoag, which sets the accuracy itself from the same three options.
   */
  readonly tolerance?: number | 'adaptive'
  /** Also evaluate a held-out metric at each accepted step (e.g. test accuracy). */
  readonly evaluate?: (lambda: RVec, w: RVec) => Record<string, number>
  /** Called after each accepted step (progress bars). */
  readonly onStep?: (s: TuneStep) => void
  /** Stop ('converged') when the gradient in the optimizer's coordinates (θ = log λ with logScale, projected under bounds) has norm ≤ gradTol. */
  readonly gradTol?: number
  /** Stop ('converged') when |f_k − f_{k−1}| ≤ fTol·max(|f_k|, |f_{k−1}|) between accepted steps. */
  readonly fTol?: number
}

export interface TuneStep {
  readonly step: number
  readonly lambda: ReadonlyArray<number>
  /** The upper objective at the step's final lower iterate. */
  readonly value: number
  /** ‖∇̂f(λ)‖ (in λ's coordinates, whatever the optimizer's scale). */
  readonly gradNorm: number
  /** Inner iterations spent since the previous accepted step, rejected trials included. */
  readonly t: number
  readonly k: number
  /** Oracle calls so far, this step's included. */
  readonly evaluations: number
  readonly bound?: number
  readonly tolerance?: number
  readonly status: HypergradResult['status']
  /** Cumulative wall-clock seconds since the loop started. */
  readonly seconds: number
  readonly metrics?: Record<string, number>
}

export interface TuneResult {
  /** The last accepted point, its value and lower iterate. */
  readonly lambda: Vec
  readonly value: number
  readonly w: Vec
  readonly trajectory: ReadonlyArray<TuneStep>
  /**
   * converged: gradTol, fTol or the optimizer's own criterion; maxIter: a budget was spent —
   * steps, maxEvaluations, maxSeconds, or the optimizer's own trials (a line search that found no decrease,
   * which `reason` names); diverged: the hypergradient method diverged at a later evaluation
   * (`divergedAt`).
   */
  readonly status: 'converged' | 'maxIter' | 'diverged'
  /** One line: which rule stopped the loop. */
  readonly reason: string
  /** Oracle calls in all. */
  readonly evaluations: number
  readonly divergedAt?: { readonly step: number; readonly evaluation: number; readonly lambda: ReadonlyArray<number>; readonly reason: string }
}

const warmFlags = (w: TuneOptions['warmStart']): { lower: boolean; linear: boolean } =>
  w === undefined || w === true ? { lower: true, linear: true } : w === false ? { lower: false, linear: false } : w

/** Options that configure a named optimizer and have no meaning beside an optimizer value. */
const configOnly = ['stepSize', 'logScale', 'bounds', 'memory', 'maxStep', 'xTol', 'beta1', 'beta2', 'eps', 'tolDecrease'] as const

const optional = (name: string, x: number | undefined, range: typeof POSITIVE) =>
  x === undefined ? E.right(undefined) : option(outerField, name, x, NaN, range)

/** Validate tune's options and λ₀ and build the optimizer; a Left names the option. */
export const checkTuneOptions = (o: TuneOptions, lambda0: RVec): E.Either<HypergradError, OuterOptimizer> =>
  pipe(
    E.Do,
    E.apS('lambda', lambda0.length === 0 ? E.left(hgError('dimension', 'lambda: no hyperparameters (empty λ₀)')) : E.right(lambda0)),
    E.chain(() => {
      const bad = lambda0.findIndex((l) => !Number.isFinite(l))
      return bad >= 0 ? E.left(hgError('domain', `lambda[${bad}] = ${lambda0[bad]} is not finite`)) : E.right(undefined)
    }),
    E.chain(() => option(outerField, 'steps', o.steps, NaN, { min: 1, max: Infinity, integer: true })),
    E.chain(() => optional('maxEvaluations', o.maxEvaluations, { min: 1, max: Infinity, integer: true })),
    E.chain(() => optional('maxSeconds', o.maxSeconds, POSITIVE)),
    E.chain(() => optional('gradTol', o.gradTol, NONNEGATIVE)),
    E.chain(() => optional('fTol', o.fTol, NONNEGATIVE)),
    E.chain(() => (o.tolerance === 'adaptive' ? E.right(undefined) : optional('tolerance', o.tolerance, POSITIVE))),
    E.chain(() => optional('adaptiveFactor', o.adaptiveFactor, POSITIVE)),
    E.chain(() => optional('initialTolerance', o.initialTolerance, POSITIVE)),
    E.chain(() => optional('minTolerance', o.minTolerance, NONNEGATIVE)),
    E.chain(() => {
      if (typeof o.optimizer === 'string') {
        if (o.optimizer === 'hoag' && o.tolerance !== undefined)
          return E.left(hgError('config', 'outer.tolerance: hoag sets the accuracy of every evaluation itself (initialTolerance, tolDecrease, adaptiveFactor, minTolerance)'))
        return optimizerFromConfig({ ...o, optimizer: o.optimizer })
      }
      if (typeof o.optimizer !== 'object' || o.optimizer === null || typeof o.optimizer.update !== 'function')
        return E.left(hgError('config', `outer.optimizer: unknown optimizer "${String(o.optimizer)}" (one of ${optimizerNames.join(', ')}, or an optimizer value)`))
      const stray = configOnly.find((k) => o[k] !== undefined)
      return stray !== undefined
        ? E.left(hgError('config', `outer.${stray}: set it on the optimizer value (chain its transforms), not in tune's options`))
        : E.right(o.optimizer)
    }),
  )

/** The request's accuracy: the optimizer's, else tune's fixed or adaptive rule. */
const toleranceFor = (p: Proposal, o: TuneOptions, prevGradNorm: number | undefined): number | undefined => {
  if (p.tolerance !== undefined) return p.tolerance
  if (o.tolerance !== 'adaptive') return o.tolerance
  const t = Math.max(o.minTolerance ?? 1e-10, Math.min(o.initialTolerance ?? 1, (o.adaptiveFactor ?? 0.1) * (prevGradNorm ?? Infinity)))
  return Number.isFinite(t) ? t : undefined
}

/** Why a result counts as diverged, in one line. */
const divergence = (res: HypergradResult): string =>
  res.status === 'diverged' ? `${res.divergedAt.stage} stage, iteration ${res.divergedAt.iter}: ${res.reason}` : 'a non-finite value or gradient'

const show = (x: RVec): string => (x.length === 1 ? String(x[0]) : `[${Array.from(x.slice(0, 4)).join(', ')}${x.length > 4 ? ', …' : ''}]`)

/** Run the outer loop from λ₀. */
export const tune = (lambda0: RVec, oracle: HyperOracle, opts: TuneOptions): E.Either<HypergradError, TuneResult> => {
  const checked = checkTuneOptions(opts, lambda0)
  if (E.isLeft(checked)) return checked
  const opt = checked.right
  const started = opt.init(lambda0)
  if (E.isLeft(started)) return started
  const flags = warmFlags(opts.warmStart)
  const maxEvaluations = opts.maxEvaluations ?? 100 * opts.steps
  const trajectory: TuneStep[] = []
  const start = performance.now()
  let state = started.right.state
  let proposal: Proposal = started.right.next
  let warm: WarmStart = {}
  let current: { readonly lambda: Vec; readonly value: number; readonly w: Vec } | undefined
  let prevGradNorm: number | undefined
  let evaluations = 0
  let spentT = 0
  let spentK = 0
  const done = (status: TuneResult['status'], reason: string): E.Either<HypergradError, TuneResult> =>
    current === undefined
      ? E.left(hgError('divergence', `outer step 0: stopped before any point was accepted (${reason})`))
      : E.right({ lambda: current.lambda, value: current.value, w: current.w, trajectory, status, reason, evaluations })
  for (;;) {
    const step = trajectory.length
    if (evaluations >= maxEvaluations) return done('maxIter', `maxEvaluations = ${maxEvaluations} oracle calls spent`)
    if (opts.maxSeconds !== undefined && current !== undefined && performance.now() - start >= 1000 * opts.maxSeconds)
      return done('maxIter', `maxSeconds = ${opts.maxSeconds} spent after ${evaluations} oracle calls`)
    const lambda = Float64Array.from(proposal.x)
    const bad = lambda.findIndex((l) => !Number.isFinite(l))
    if (bad >= 0) return E.left(hgError('divergence', `outer step ${step}: the optimizer proposed λ[${bad}] = ${lambda[bad]}`))
    const tolerance = toleranceFor(proposal, opts, prevGradNorm)
    const r = oracle({ lambda, warm, step, evaluation: evaluations, ...(tolerance !== undefined ? { tolerance } : {}) })
    evaluations++
    if (E.isLeft(r)) return E.left(hgError(r.left.kind, `outer step ${step}: ${r.left.message}`))
    const res = r.right
    if (res.status === 'diverged') {
      const reason = divergence(res)
      if (current === undefined) return E.left(hgError('divergence', `outer step ${step}: the hypergradient method diverged at λ = ${show(lambda)} (${reason})`))
      return E.right({
        lambda: current.lambda,
        value: current.value,
        w: current.w,
        trajectory,
        status: 'diverged',
        reason: `the hypergradient method diverged at step ${step} (evaluation ${evaluations - 1})`,
        evaluations,
        divergedAt: { step, evaluation: evaluations - 1, lambda: Array.from(lambda), reason },
      })
    }
    const g = res.gradient
    if (g.length !== lambda.length)
      return E.left(hgError('dimension', `outer step ${step}: the oracle returned a gradient of length ${g.length} for ${lambda.length} hyperparameters`))
    const badG = g.findIndex((x) => !Number.isFinite(x))
    if (badG >= 0) return E.left(hgError('divergence', `outer step ${step}: the oracle returned a non-finite gradient (∇f[${badG}] = ${g[badG]}) at λ = ${show(lambda)}`))
    if (!Number.isFinite(res.value)) return E.left(hgError('divergence', `outer step ${step}: the oracle returned a non-finite value f = ${res.value} at λ = ${show(lambda)}`))
    spentT += res.t
    spentK += res.k
    const u = opt.update({ x: lambda, value: res.value, gradient: g, ...(res.bound !== undefined ? { bound: res.bound } : {}) }, state)
    if (E.isLeft(u)) return E.left(hgError(u.left.kind, `outer step ${step}: ${u.left.message}`))
    const up = u.right
    state = up.state
    if (up.accepted) {
      const gradNorm = norm(g)
      const rec: TuneStep = {
        step,
        lambda: Array.from(lambda),
        value: res.value,
        gradNorm,
        t: spentT,
        k: spentK,
        evaluations,
        ...(res.bound !== undefined ? { bound: res.bound } : {}),
        ...(tolerance !== undefined ? { tolerance } : {}),
        status: res.status,
        seconds: (performance.now() - start) / 1000,
        ...(opts.evaluate ? { metrics: opts.evaluate(lambda, res.w) } : {}),
      }
      trajectory.push(rec)
      opts.onStep?.(rec)
      spentT = 0
      spentK = 0
      const previous = current
      current = { lambda, value: res.value, w: res.w }
      prevGradNorm = gradNorm
      warm = { ...(flags.lower ? { w: res.w } : {}), ...(flags.linear ? { v: res.v } : {}) }
      if (opts.gradTol !== undefined && up.gradNorm <= opts.gradTol)
        return done('converged', `‖∇̂f‖ = ${up.gradNorm.toExponential(3)} ≤ gradTol = ${opts.gradTol} at step ${step}`)
      if (opts.fTol !== undefined && previous !== undefined) {
        const change = Math.abs(res.value - previous.value)
        if (change <= opts.fTol * Math.max(Math.abs(res.value), Math.abs(previous.value)))
          return done('converged', `relative change of f ${(change / Math.max(Math.abs(res.value), Number.MIN_VALUE)).toExponential(3)} ≤ fTol = ${opts.fTol} at step ${step}`)
      }
    }
    if (isStop(up)) return done(up.stop.status === 'converged' ? 'converged' : 'maxIter', `${opt.name} ${up.stop.status}: ${up.stop.reason}`)
    if (trajectory.length >= opts.steps) return done('maxIter', `steps = ${opts.steps} spent`)
    proposal = up.next
  }
}
