/**
 * Stochastic implicit differentiation (SID paper, Algorithm 1):
 *
 *   1. wₜ: t steps of a (stochastic) lower-level solver from w₀;
 *   2. vₖ: k steps of a (stochastic) solver for (I − ∂₁Φ(wₜ, λ)ᵀ)v = ∇₁E(wₜ, λ)   (eq. 6);
 *   3. ∇̂f(λ) = ∇₂E(wₜ, λ) + ∂₂Φ̂(wₜ, λ, ζ)ᵀvₖ                                       (eq. 8).
 *
 * The three sources of randomness are independent, as SID Assumption C requires: the lower
 * solver, the linear solver and the final draw ζ each get their own stream of
 * `split(seed(opts.seed), 3)`. Deterministic solvers are accepted too: with full-batch solvers
 * and the exact ∂₂Φ this is AID (the "Batch" variant of SID §6).
 *
 * The final term may use one minibatch draw ('one', eq. 8), the average of J independent draws
 * ({ draws: J }, variance m₂/J), or the exact ∂₂Φ ('exact'): SID §3's remedies for the variance
 * floor 2m₂L_E²/(1−q)² of eq. 14, at the cost of J·b/n or one full product.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, HypergradException, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { isFiniteVec } from '../linalg/vector.js'
import { isStochastic, type BilevelProblem, type StochasticBilevelProblem } from '../problem/bilevel.js'
import { minibatch, seed as seedRng, split, type Rng } from '../random/rng.js'
import { linearSystemAt } from '../solvers/linearSystem.js'
import { checkBatchSize } from '../solvers/lower/sgd.js'
import type { Counts, LinearMethod, LowerMethod, Status } from '../solvers/types.js'
import type { HypergradResult } from './types.js'
import { checkContraction, checkCount, checkLambda, checkLinearMethod, checkLowerMethod, checkStart } from './validate.js'

/** How the final ∂₂Φ̂(wₜ, λ, ζ)ᵀvₖ is drawn (SID eq. 8 and the remedies of §3). */
export type FinalSamples = 'one' | { readonly draws: number } | 'exact'

/** Options of `sid` (Algorithm 1): the two solvers, their step counts, the final draw, the seed. */
export interface SidOptions {
  /** The solver for the lower-level fixed point (stochastic or not). */
  readonly lower: LowerMethod
  /** The solver for (I − ∂₁Φᵀ)v = ∇₁E at wₜ (stochastic or not). */
  readonly linear: LinearMethod
  /** Lower-level steps t ≥ 0. */
  readonly t: number
  /** Linear-system steps k ≥ 0. */
  readonly k: number
  /**
   * The final draw: 'one' minibatch (eq. 8), the mean of J draws, or the exact ∂₂Φ. Default:
   * 'one' when the lower solver is stochastic, 'exact' otherwise (and always 'exact' on a
   * problem without a stochastic map).
   */
  readonly finalSamples?: FinalSamples
  /**
   * Minibatch size of each final draw (1 ≤ b ≤ n). Default: the lower solver's batch size
   * when it has one, else the linear solver's, else 1.
   */
  readonly batchSize?: number
  /** The integer seed of the three independent streams. */
  readonly seed: number
  /** Lower start (default 0, as in SID §5). */
  readonly w0?: RVec
  /** Linear start (default 0, as in SID §5). */
  readonly v0?: RVec
}

/**
 * The three independent streams SID uses for a seed: [lower solver, linear solver, final draw]
 * = split(seed(s), 3). Exposed so that a run can be reproduced stage by stage.
 */
export const sidStreams = (s: number): readonly [Rng, Rng, Rng] => {
  const [a, b, c] = split(seedRng(s), 3)
  return [a!, b!, c!]
}

const batchSizeOf = (m: LowerMethod | LinearMethod): number | undefined => {
  const b = (m as { readonly batchSize?: unknown }).batchSize
  return typeof b === 'number' ? b : undefined
}

interface Plan {
  readonly lambda: RVec
  readonly w0: RVec
  readonly v0: RVec
  readonly final: { readonly kind: 'exact' } | { readonly kind: 'draws'; readonly draws: number; readonly batchSize: number; readonly problem: StochasticBilevelProblem }
}

/** Validate everything before any work is done (the checks shared with AID and ITD, then SID's own). */
const plan = (problem: BilevelProblem, lambda: RVec, opts: SidOptions): E.Either<HypergradError, Plan> => {
  const who = 'sid'
  const counts = [checkCount(who, 't', opts.t), checkCount(who, 'k', opts.k)]
  for (const c of counts) if (E.isLeft(c)) return c
  if (!Number.isInteger(opts.seed)) return E.left(hgError('domain', `sid: seed must be an integer, got ${opts.seed}`))
  const lam = checkLambda(who, problem, lambda)
  if (E.isLeft(lam)) return lam
  const q = checkContraction(who, problem, lam.right)
  if (E.isLeft(q)) return q
  const w0 = checkStart(who, 'w0', opts.w0, problem.dim)
  if (E.isLeft(w0)) return w0
  const v0 = checkStart(who, 'v0', opts.v0, problem.dim)
  if (E.isLeft(v0)) return v0
  const lo = checkLowerMethod(who, opts.lower, problem, opts.t)
  if (E.isLeft(lo)) return lo
  const li = checkLinearMethod(who, opts.linear, problem, opts.k)
  if (E.isLeft(li)) return li

  const fs: FinalSamples = opts.finalSamples ?? (opts.lower.stochastic ? 'one' : 'exact')
  if (fs !== 'exact' && fs !== 'one') {
    if (typeof fs !== 'object' || fs === null || !(Number.isInteger(fs.draws) && fs.draws >= 1))
      return E.left(hgError('domain', `sid: finalSamples.draws must be an integer ≥ 1, got ${(fs as { draws?: unknown })?.draws}`))
  }
  let final: Plan['final'] = { kind: 'exact' }
  if (fs !== 'exact' && isStochastic(problem)) {
    const b = opts.batchSize ?? batchSizeOf(opts.lower) ?? batchSizeOf(opts.linear) ?? 1
    const cb = checkBatchSize('sid (final draw)', b, problem.nSamples)
    if (E.isLeft(cb)) return cb
    final = { kind: 'draws', draws: fs === 'one' ? 1 : fs.draws, batchSize: b, problem }
  } else if (opts.batchSize !== undefined && !(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) {
    return E.left(hgError('domain', `sid: batch size must be an integer ≥ 1, got ${opts.batchSize}`))
  }
  return E.right({ lambda: lam.right, w0: w0.right, v0: v0.right, final })
}

const addCounts = (a: Counts, b: Counts): Counts => ({ phi: a.phi + b.phi, jacW: a.jacW + b.jacW, jacLambda: a.jacLambda + b.jacLambda })
const zero = (): Counts => ({ phi: 0, jacW: 0, jacLambda: 0 })

/**
 * SID, Algorithm 1 of the SID paper: ∇̂f(λ) = ∇₂E(wₜ, λ) + ∂₂Φ̂(wₜ, λ, ζ)ᵀvₖ (eq. 8), with wₜ
 * from t steps of `lower`, vₖ from k steps of `linear` on linearSystemAt(problem, λ, wₜ), and
 * the lower solver, the linear solver and ζ on the independent streams `sidStreams(seed)`.
 * Its mean square error obeys SID Thm 3.4 (eq. 13) given the solvers' rates ρ(t), σ(k).
 *
 * Validates (Left with a HypergradError): t, k integers ≥ 0; an integer seed; λ
 * (problem.checkLambda); q < 1; w₀, v₀ of length d and finite; a stochastic solver only on a
 * stochastic problem; every batch size in [1, n]; every step of the t (k) steps used positive
 * and finite; finalSamples.draws an integer ≥ 1.
 *
 * Result: status 'maxIter' (SID runs a fixed number of steps) or 'diverged' with `divergedAt`
 * when an iterate (or residual, right-hand side or the estimate) is not finite; then
 * `gradient` is zero (never NaN) and w, v are the last finite iterates. `value` = E(wₜ, λ) is
 * computed on first read (it costs a pass over the upper-level data). Counts are in full-map
 * units (a minibatch of b counts b/n): the solvers' own counts plus the final draw (J·b/n, or
 * 1 for 'exact'). lowerResiduals / linearResiduals hold the residuals the solvers report
 * (deterministic ones do; stochastic ones report none).
 */
export const sid = (problem: BilevelProblem, lambda: RVec, opts: SidOptions): E.Either<HypergradError, HypergradResult> => {
  const p = plan(problem, lambda, opts)
  if (E.isLeft(p)) return p
  try {
    return E.right(run(problem, p.right, opts))
  } catch (e) {
    if (e instanceof HypergradException) return E.left(e.error)
    throw e
  }
}

const run = (problem: BilevelProblem, pl: Plan, opts: SidOptions): HypergradResult => {
  const { lambda } = pl
  const [rLower, rLinear, rFinal] = sidStreams(opts.seed)
  const method = `sid(${opts.lower.name}, ${opts.linear.name})`
  const m = problem.hyperDim

  // 1. wₜ.
  let w: Vec = Float64Array.from(pl.w0)
  let tDone = 0
  let lowerCounts = zero()
  const lowerRes: number[] = []
  let diverged: HypergradResult['divergedAt'] | undefined
  for (const s of opts.lower.iterates(problem, lambda, pl.w0, rLower)) {
    if (!isFiniteVec(s.w) || (s.residual !== undefined && !Number.isFinite(s.residual))) {
      diverged = { stage: 'lower', iter: s.iter }
      break
    }
    w = s.w
    tDone = s.iter
    lowerCounts = s.counts
    if (s.residual !== undefined) lowerRes.push(s.residual)
    if (s.iter >= opts.t) break
  }
  const v0 = pl.v0
  const finish = (v: RVec, kDone: number, linCounts: Counts, linRes: number[], status: Status, gradient: Vec, extra: Counts): HypergradResult => {
    // E(wₜ, λ) costs a full pass over the upper-level data: computed on first read, from private
    // copies (so that later changes to the returned arrays or to λ cannot alter it), then kept.
    const wAt = Float64Array.from(w)
    const lamAt = Float64Array.from(lambda)
    let value: number | undefined
    return {
      method,
      gradient,
      get value(): number {
        if (value === undefined) {
          const e = problem.upper(wAt, lamAt)
          value = Number.isFinite(e) || status !== 'diverged' ? e : Infinity
        }
        return value
      },
      w,
      v: Float64Array.from(v),
      t: tDone,
      k: kDone,
      lowerResiduals: Float64Array.from(lowerRes),
      linearResiduals: Float64Array.from(linRes),
      counts: addCounts(addCounts(lowerCounts, linCounts), extra),
      status,
      ...(diverged === undefined ? {} : { divergedAt: diverged }),
    }
  }
  if (diverged !== undefined) return finish(v0, 0, zero(), [], 'diverged', new Float64Array(m), zero())

  // 2. vₖ on the system at wₜ.
  const system = linearSystemAt(problem, lambda, w)
  if (!isFiniteVec(system.rhs)) {
    diverged = { stage: 'linear', iter: 0 }
    return finish(v0, 0, zero(), [], 'diverged', new Float64Array(m), zero())
  }
  let v: RVec = v0
  let kDone = 0
  let linCounts = zero()
  const linRes: number[] = []
  for (const s of opts.linear.iterates(system, v0, rLinear)) {
    if (!isFiniteVec(s.v) || (s.residual !== undefined && !Number.isFinite(s.residual))) {
      diverged = { stage: 'linear', iter: s.iter }
      break
    }
    v = s.v
    kDone = s.iter
    linCounts = s.counts
    if (s.residual !== undefined) linRes.push(s.residual)
    if (s.iter >= opts.k) break
  }
  if (diverged !== undefined) return finish(v, kDone, linCounts, linRes, 'diverged', new Float64Array(m), zero())

  // 3. ∇₂E(wₜ) + ∂₂Φ̂(wₜ, ζ)ᵀvₖ.
  const gradient = problem.gradUpperLambda(w, lambda)
  let extra: Counts
  if (pl.final.kind === 'exact') {
    const g = problem.vjpLambda(w, lambda, v)
    for (let i = 0; i < m; i++) gradient[i] = gradient[i]! + g[i]!
    extra = { phi: 0, jacW: 0, jacLambda: 1 }
  } else {
    const { draws, batchSize, problem: sp } = pl.final
    const n = sp.nSamples
    let r = rFinal
    const acc = new Float64Array(m)
    for (let j = 0; j < draws; j++) {
      const [batch, next] = minibatch(r, n, batchSize)
      r = next
      const g = sp.vjpLambdaHat(w, lambda, batch, v)
      for (let i = 0; i < m; i++) acc[i] = acc[i]! + g[i]!
    }
    for (let i = 0; i < m; i++) gradient[i] = gradient[i]! + acc[i]! / draws
    extra = { phi: 0, jacW: 0, jacLambda: (draws * batchSize) / n }
  }
  if (!isFiniteVec(gradient)) {
    diverged = { stage: 'linear', iter: kDone }
    return finish(v, kDone, linCounts, linRes, 'diverged', new Float64Array(m), extra)
  }
  return finish(v, kDone, linCounts, linRes, 'maxIter', gradient, extra)
}
