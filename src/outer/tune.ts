/**
 * The outer loop of bilevel optimization: λ ← λ + optimizer step on ∇̂f(λ), each step using
 * any hypergradient method of the library through a `HyperOracle`, with warm starts of the
 * lower-level iterate and of the linear-system solution carried from one step to the next
 * (as HOAG and sparse-ho do), optional optimization over log λ (positivity by construction),
 * projection onto a box Λ, and inner accuracy tied to the hypergradient norm (adaptive).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { HypergradResult } from '../hypergrad/types.js'
import { adam, gradientDescent, type Optimizer } from './optimizer.js'

/** Where the inner solvers start: the previous step's final iterates (undefined: cold start). */
export interface WarmStart {
  readonly w?: Vec
  readonly v?: Vec
}

/** What an outer step asks of a hypergradient method. */
export interface OracleRequest {
  readonly lambda: RVec
  readonly warm: WarmStart
  /** Target accuracy of ‖∇̂f − ∇f‖ (adaptive mode), or undefined for the method's fixed t, k. */
  readonly tolerance?: number
  /** The outer step index (for seeding stochastic methods). */
  readonly step: number
}

/** A hypergradient computation; `bound` is the certified (a posteriori) error bound if known. */
export type HyperOracle = (req: OracleRequest) => E.Either<HypergradError, HypergradResult & { readonly bound?: number }>

export interface TuneOptions {
  readonly optimizer: 'gd' | 'adam'
  readonly steps: number
  readonly stepSize: number
  /** Optimize over θ = log λ (λ = e^θ > 0); the chain rule gives ∇_θ f = λ ⊙ ∇_λ f. */
  readonly logScale?: boolean
  /** Box constraints Λ = [lo, hi]ᵐ (on λ itself); each step is projected onto it. */
  readonly bounds?: readonly [number, number]
  /** Warm-start the lower iterate and/or the linear-system solution (default both). */
  readonly warmStart?: boolean | { readonly lower: boolean; readonly linear: boolean }
  /**
   * Inner accuracy: a fixed target, 'adaptive' (a fraction `adaptiveFactor`, default 0.1, of the
   * previous hypergradient norm, never above `initialTolerance` — the first step's target, default
   * 1 — nor below `minTolerance`, default 1e-10), or undefined (the method's own t, k).
   */
  readonly tolerance?: number | 'adaptive'
  readonly adaptiveFactor?: number
  readonly initialTolerance?: number
  readonly minTolerance?: number
  /** Also evaluate a held-out metric at each step (e.g. test accuracy). */
  readonly evaluate?: (lambda: RVec, w: RVec) => Record<string, number>
  /** Called after each step (progress bars). */
  readonly onStep?: (s: TuneStep & { readonly value: number }) => void
  /** Stop early when the gradient in the optimized coordinates (θ = log λ with logScale) has norm below this. */
  readonly gradTol?: number
}

export interface TuneStep {
  readonly step: number
  readonly lambda: ReadonlyArray<number>
  /** The upper objective at the step's final lower iterate (null when the step diverged). */
  readonly value: number | null
  /** ‖∇̂f(λ)‖ (in λ's coordinates, whatever the optimizer's scale). */
  readonly gradNorm: number
  readonly t: number
  readonly k: number
  readonly bound?: number
  readonly tolerance?: number
  readonly status: HypergradResult['status']
  /** Cumulative wall-clock seconds since the loop started. */
  readonly seconds: number
  readonly metrics?: Record<string, number>
}

export interface TuneResult {
  readonly lambda: Vec
  /** The upper objective at the last evaluated λ (null when that evaluation diverged). */
  readonly value: number | null
  readonly w: Vec
  readonly trajectory: ReadonlyArray<TuneStep>
  readonly status: 'converged' | 'maxIter' | 'diverged'
}

const warmFlags = (w: TuneOptions['warmStart']): { lower: boolean; linear: boolean } =>
  w === undefined || w === true ? { lower: true, linear: true } : w === false ? { lower: false, linear: false } : w

/** Validate the options that a config file can get wrong. */
export const checkTuneOptions = (o: TuneOptions, lambda0: RVec): E.Either<HypergradError, TuneOptions> => {
  if (o.optimizer !== 'gd' && o.optimizer !== 'adam') return E.left(hgError('config', `outer.optimizer: unknown optimizer "${String(o.optimizer)}" (gd or adam)`))
  if (!(Number.isInteger(o.steps) && o.steps >= 1)) return E.left(hgError('config', `outer.steps: expected an integer ≥ 1, got ${o.steps}`))
  if (!(Number.isFinite(o.stepSize) && o.stepSize > 0)) return E.left(hgError('config', `outer.stepSize: expected a positive number, got ${o.stepSize}`))
  if (o.bounds !== undefined) {
    const [lo, hi] = o.bounds
    if (!(lo < hi)) return E.left(hgError('config', `outer.bounds: empty box [${lo}, ${hi}]`))
    if (o.logScale === true && !(lo > 0)) return E.left(hgError('config', `outer.bounds: with logScale the lower bound must be > 0, got ${lo}`))
  }
  for (let i = 0; i < lambda0.length; i++) {
    const l = lambda0[i]!
    if (!Number.isFinite(l)) return E.left(hgError('domain', `lambda[${i}] = ${l} is not finite`))
    if (o.logScale === true && !(l > 0)) return E.left(hgError('domain', `lambda[${i}] = ${l}: logScale needs λ > 0`))
  }
  return E.right(o)
}

const project = (lambda: Vec, bounds: TuneOptions['bounds']): Vec => {
  if (bounds === undefined) return lambda
  const [lo, hi] = bounds
  for (let i = 0; i < lambda.length; i++) lambda[i] = Math.min(hi, Math.max(lo, lambda[i]!))
  return lambda
}

/** Run the outer loop from λ₀. */
export const tune = (lambda0: RVec, oracle: HyperOracle, opts: TuneOptions): E.Either<HypergradError, TuneResult> => {
  const checked = checkTuneOptions(opts, lambda0)
  if (E.isLeft(checked)) return checked
  const opt: Optimizer = opts.optimizer === 'adam' ? adam(opts.stepSize) : gradientDescent(opts.stepSize)
  const log = opts.logScale === true
  const flags = warmFlags(opts.warmStart)
  let lambda = project(Float64Array.from(lambda0), opts.bounds)
  let theta = log ? lambda.map(Math.log) : Float64Array.from(lambda)
  let state = opt.init(theta)
  let warm: WarmStart = {}
  const trajectory: TuneStep[] = []
  const start = performance.now()
  let prevGradNorm: number | undefined
  let last: (HypergradResult & { bound?: number }) | undefined
  for (let step = 0; step < opts.steps; step++) {
    const tolerance =
      opts.tolerance === 'adaptive'
        ? Math.max(opts.minTolerance ?? 1e-10, Math.min(opts.initialTolerance ?? 1, (opts.adaptiveFactor ?? 0.1) * (prevGradNorm ?? Infinity)))
        : opts.tolerance
    const r = oracle({ lambda, warm, step, ...(tolerance !== undefined && Number.isFinite(tolerance) ? { tolerance } : {}) })
    if (E.isLeft(r)) return E.left(hgError(r.left.kind, `outer step ${step}: ${r.left.message}`))
    const res = r.right
    last = res
    if (res.status === 'diverged' || !res.gradient.every(Number.isFinite)) {
      trajectory.push(record(step, lambda, res, 0, tolerance, start, opts))
      return E.right({ lambda, value: res.value, w: res.w, trajectory, status: 'diverged' })
    }
    const g = log ? res.gradient.map((gi, i) => gi * lambda[i]!) : res.gradient
    const gn = norm(g)
    prevGradNorm = norm(res.gradient)
    const rec = record(step, lambda, res, prevGradNorm, tolerance, start, opts)
    trajectory.push(rec)
    opts.onStep?.({ ...rec, value: res.value })
    if (opts.gradTol !== undefined && gn <= opts.gradTol) return E.right({ lambda, value: res.value, w: res.w, trajectory, status: 'converged' })
    // The last evaluation is the answer: λ and its validation loss are reported together.
    if (step === opts.steps - 1) break
    const [delta, next] = opt.update(g, state)
    state = next
    theta = theta.map((x, i) => x + delta[i]!)
    lambda = project(log ? theta.map(Math.exp) : Float64Array.from(theta), opts.bounds)
    if (opts.bounds !== undefined) theta = log ? lambda.map(Math.log) : Float64Array.from(lambda)
    warm = { ...(flags.lower ? { w: res.w } : {}), ...(flags.linear ? { v: res.v } : {}) }
  }
  return E.right({ lambda, value: last?.value ?? null, w: last?.w ?? new Float64Array(0), trajectory, status: 'maxIter' })
}

const record = (
  step: number,
  lambda: RVec,
  res: HypergradResult & { bound?: number },
  gradNorm: number,
  tolerance: number | undefined,
  start: number,
  opts: TuneOptions,
): TuneStep => ({
  step,
  lambda: Array.from(lambda),
  value: res.value,
  gradNorm,
  t: res.t,
  k: res.k,
  ...(res.bound !== undefined ? { bound: res.bound } : {}),
  ...(tolerance !== undefined && Number.isFinite(tolerance) ? { tolerance } : {}),
  status: res.status,
  seconds: (performance.now() - start) / 1000,
  ...(opts.evaluate ? { metrics: opts.evaluate(lambda, res.w) } : {}),
})
