/**
 * Iterative differentiation (ITD; Grazzi et al. 2020): differentiate through t steps of the
 * fixed-point iteration
 *
 *   wᵢ = Ψ(wᵢ₋₁, λ) = wᵢ₋₁ + η (Φ(wᵢ₋₁, λ) − wᵢ₋₁),   i = 1..t   (η = 1: wᵢ = Φ(wᵢ₋₁, λ)),
 *
 * from a start w₀ that does not depend on λ, and return the exact gradient of the surrogate
 * fₜ(λ) = E(wₜ(λ), λ):
 *
 *   ∇fₜ(λ) = ∇₂E(wₜ) + Σ_{i=1}^{t} ∂₂Ψ(wᵢ₋₁)ᵀ pᵢ,   pₜ = ∇₁E(wₜ),   pᵢ₋₁ = ∂₁Ψ(wᵢ₋₁)ᵀ pᵢ,
 *
 * with ∂₁Ψ = (1 − η)I + η∂₁Φ and ∂₂Ψ = η∂₂Φ (reverse mode), or equivalently
 * ∇fₜ = ∇₂E(wₜ) + Zₜᵀ∇₁E(wₜ) with Z₀ = 0, Zᵢ = ∂₁Ψ(wᵢ₋₁)Zᵢ₋₁ + ∂₂Ψ(wᵢ₋₁) (forward mode).
 * Under a q-contraction the error ‖∇fₜ − ∇f‖ is O(t qᵗ) (Grazzi et al. 2020).
 *
 * Truncation (`truncate: K`) back-propagates through the last K steps only: the sum runs over
 * i = t−K+1..t (forward mode: Zₜ₋ₖ is reset to 0). Both modes compute the same quantity.
 *
 * Started at the fixed point, ITD equals AID-FP with k = K (Ehrhardt & Roberts' unification;
 * docs/theory/solvers.md §2).
 *
 * The forward pass is the library's fixed-point solver run by the shared driver (same
 * divergence test and statuses as every method); a stopping rule (`stopWhen`, e.g. a residual
 * tolerance or a budget) and an observer (`tap`) can be attached to it.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { HypergradError } from '../errors.js'
import { axpy, dot, scal } from '../linalg/kernels.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { seed as rngSeed } from '../random/rng.js'
import { checkContraction, checkCount, checkLambda, checkPositive, checkStart, fail, faultOf, validateLower } from '../solvers/check.js'
import { stopWhen as stopWhenSolver, tap as tapSolver, type StopRule } from '../solvers/combinators.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { drive, type RunResult } from '../solvers/run.js'
import { addCounts } from '../solvers/solver.js'
import type { Counts, LowerContext, LowerSolver, LowerState } from '../solvers/types.js'
import { diverged, estimate, stageDiverged } from './implicit.js'
import type { HypergradResult } from './types.js'
import { isFiniteVec } from '../linalg/vector.js'

/** Options of ITD. */
export interface ItdOptions {
  /** Steps of the fixed-point iteration (an integer ≥ 0). */
  readonly t: number
  /**
   * 'reverse': store the iterates and back-propagate (O(K·d) memory, K = truncate or t; one
   * ∂₁Φᵀ and one ∂₂Φᵀ product per step). 'forward': carry dwᵢ/dλ (O(m·d) memory, m jvps with
   * ∂₁Φ and m with ∂₂Φ per step: worthwhile only for few hyperparameters).
   */
  readonly mode: 'reverse' | 'forward'
  /** Differentiate through the last K steps only (an integer ≥ 0; values above t mean t). */
  readonly truncate?: number
  /** The start w₀ (independent of λ); default 0. */
  readonly w0?: RVec
  /** Relaxation η of the iteration wᵢ = wᵢ₋₁ + η(Φ(wᵢ₋₁) − wᵢ₋₁); default 1. */
  readonly eta?: number
  /**
   * End the forward pass early at the first iterate this rule accepts (solvers.rules: a
   * residual tolerance, a budget, wall time); the result is then 'converged'. In forward mode a
   * truncation counts from the planned t.
   */
  readonly stopWhen?: StopRule<LowerState, LowerContext> | StopRule
  /** Observe every forward iterate (solvers.tap). */
  readonly tap?: (s: LowerState, ctx: LowerContext) => void
}

/** A lower state carrying Zᵢ = dwᵢ/dλ by columns (undefined while Zᵢ = 0). */
interface TangentState extends LowerState {
  readonly inner: LowerState
  readonly Z: ReadonlyArray<Vec> | undefined
  readonly tangentCounts: Counts
}

/**
 * ITD: t steps of wᵢ = wᵢ₋₁ + η(Φ(wᵢ₋₁, λ) − wᵢ₋₁) from w₀, differentiated in reverse or
 * forward mode through the last K = min(truncate ?? t, t) steps (see the module comment for
 * the formulas).
 *
 * Reverse mode stores the last K + 1 iterates (memoryVectors = K + 1: O(t·d) memory without
 * truncation) and makes K products with ∂₂Φᵀ and K − 1 with ∂₁Φᵀ. Its `v` is the accumulated
 * adjoint η Σᵢ pᵢ (i over the differentiated steps): when all wᵢ coincide, ∇̂f = ∇₂E + ∂₂Φᵀv and
 * v is AID-FP's vₖ. Forward mode carries Zᵢ (d×m, memoryVectors = m + 2) at m products with
 * ∂₁Φ and m with ∂₂Φ per step; it has no adjoint, so its `v` is empty (length 0).
 *
 * Validates t, truncate (integers ≥ 0), mode, λ, q < 1, w₀, η > 0 and the rule (Left naming
 * the fault). A diverging forward pass, or a non-finite gradient, is a diverged result.
 * Otherwise status is 'maxIter' (or 'converged' when the rule stopped the pass).
 * `counts.phi` is t + 1: the iteration also evaluates Φ(wₜ) for the residual ‖Φ(wₜ) − wₜ‖.
 */
export const itd = (problem: BilevelProblem, lambda: RVec, opts: ItdOptions): E.Either<HypergradError, HypergradResult> => {
  const who = `itd-${opts.mode}`
  return pipe(
    opts.mode === 'reverse' || opts.mode === 'forward' ? E.right(opts.mode) : fail('config', 'itd', `mode must be 'reverse' or 'forward', got ${String(opts.mode)}`),
    E.chain(() => checkCount(who, 't', opts.t)),
    E.bindTo('t'),
    E.bind('truncate', ({ t }) => checkCount(who, 'truncate', opts.truncate ?? t)),
    E.apS('lambda', checkLambda(who, problem, lambda)),
    E.chainFirst(({ lambda: lam }) => checkContraction(who, problem, lam)),
    E.apS('w0', checkStart(who, 'w₀', opts.w0, problem.dim)),
    E.apS('eta', checkPositive(who, 'η', opts.eta ?? 1)),
    E.bind('base', ({ eta, t }) => {
      let base: LowerSolver = fixedPointIteration({ eta })
      if (opts.stopWhen !== undefined) base = stopWhenSolver(base, opts.stopWhen)
      if (opts.tap !== undefined) base = tapSolver(base, opts.tap)
      return E.map(() => base)(validateLower(who, base, problem, t))
    }),
    E.chain(({ t, truncate, lambda: L, w0, eta, base }) => {
      const K = Math.min(truncate, t)
      const name = `${who}${K < t ? `(truncate=${K})` : ''}${eta === 1 ? '' : `(η=${eta})`}`
      try {
        return opts.mode === 'reverse' ? reverse(problem, L, base, w0, t, K, eta, name) : forward(problem, L, base, w0, t, K, eta, name)
      } catch (e) {
        return E.left(faultOf(name, e))
      }
    }),
  )
}

interface Pass {
  readonly gradient: Vec
  readonly v: Vec
  readonly k: number
  readonly counts: Counts
  readonly memory: number
}

/** The result of a pass (or the diverged result of its forward run). */
const finish = (problem: BilevelProblem, L: Vec, name: string, run: RunResult<LowerState>, pass: (w: Vec) => Pass): HypergradResult => {
  const w = run.state.w
  const failure = stageDiverged('lower', run)
  const common = (p: Pass | undefined) => ({
    method: name,
    w: Float64Array.from(w),
    v: p?.v ?? new Float64Array(0),
    t: run.iterations,
    k: p?.k ?? 0,
    lowerResiduals: run.residuals,
    linearResiduals: new Float64Array(0),
    counts: p?.counts ?? run.counts,
    stages: { lower: run.status, linear: 'maxIter' as const },
    ...(p === undefined ? {} : { memoryVectors: p.memory }),
  })
  if (failure !== undefined) return diverged(common(undefined), failure.divergedAt, failure.reason)
  const p = pass(w)
  if (!isFiniteVec(p.gradient)) return diverged(common(p), { stage: 'gradient', iter: run.iterations }, 'the back-propagated hypergradient is not finite')
  const wAt = Float64Array.from(w)
  const lamAt = Float64Array.from(L)
  return estimate(common(p), run.status as 'converged' | 'maxIter', p.gradient, () => problem.upper(wAt, lamAt), run.reason)
}

/** Reverse mode over the last K + 1 stored iterates. */
const reverse = (problem: BilevelProblem, L: Vec, base: LowerSolver, w0: Vec, t: number, K: number, eta: number, name: string): E.Either<HypergradError, HypergradResult> =>
  E.map((run: RunResult<LowerState>) =>
    finish(problem, L, name, run, () => {
      const kept = run.kept
      const last = kept[kept.length - 1]?.w ?? run.state.w
      const d = problem.dim
      let p: Vec = problem.gradUpperW(last, L)
      const g: Vec = problem.gradUpperLambda(last, L)
      const v: Vec = new Float64Array(d)
      let jacW = 0
      let jacLambda = 0
      // Step j maps kept[j−1] → kept[j]; back-propagate from the last step down to the first kept.
      for (let j = kept.length - 1; j >= 1; j--) {
        const wPrev = kept[j - 1]!.w
        const cross = problem.vjpLambda(wPrev, L, p) // ∂₂Φ(wᵢ₋₁)ᵀpᵢ
        jacLambda++
        axpy(g.length, eta, cross, 1, 0, g, 1, 0)
        axpy(d, eta, p, 1, 0, v, 1, 0)
        if (j > 1) {
          const jp = problem.vjpW(wPrev, L, p) // ∂₁Φ(wᵢ₋₁)ᵀpᵢ
          jacW++
          if (eta === 1) p = jp
          else {
            // pᵢ₋₁ = (1 − η)pᵢ + η∂₁Φᵀpᵢ, in jp (ours).
            scal(d, eta, jp, 1, 0)
            axpy(d, 1 - eta, p, 1, 0, jp, 1, 0)
            p = jp
          }
        }
      }
      return { gradient: g, v, k: Math.max(0, kept.length - 1), counts: addCounts(run.counts, { phi: 0, jacW, jacLambda }), memory: kept.length }
    }),
  )(drive(base, { problem, lambda: L }, w0, rngSeed(0), { maxIter: t, keep: K + 1 }, (s: LowerState) => s.w, 0))

/**
 * The forward-mode solver: the base iteration, each state carrying Zᵢ = dwᵢ/dλ for the steps
 * i ≥ firstActive (Zᵢ = ∂₁Ψ(wᵢ₋₁)Zᵢ₋₁ + ∂₂Ψ(wᵢ₋₁), Ψ the relaxed map).
 */
const tangents = (base: LowerSolver, firstActive: number, eta: number): LowerSolver<TangentState> => {
  const wrap = (inner: LowerState, Z: ReadonlyArray<Vec> | undefined, tangentCounts: Counts): TangentState => ({
    ...inner,
    counts: addCounts(inner.counts, tangentCounts),
    inner,
    Z,
    tangentCounts,
  })
  return {
    kind: 'lower',
    name: `tangents(${base.name})`,
    stochastic: base.stochastic,
    check: (problem, steps) => base.check(problem, steps),
    init: (ctx, w0, rng) => wrap(base.init(ctx, w0, rng), undefined, { phi: 0, jacW: 0, jacLambda: 0 }),
    step: (ctx, prev) => {
      const inner = base.step(ctx, prev.inner)
      if (inner.iter < firstActive) return wrap(inner, undefined, prev.tangentCounts)
      const { problem, lambda: L } = ctx
      const d = problem.dim
      const m = problem.hyperDim
      const wPrev = prev.inner.w
      const Zp = prev.Z
      let { jacW, jacLambda } = prev.tangentCounts
      const Z: Vec[] = []
      const e = new Float64Array(m)
      for (let j = 0; j < m; j++) {
        e.fill(0)
        e[j] = 1
        const col = problem.jvpLambda(wPrev, L, e) // ∂₂Φ(wᵢ₋₁)eⱼ
        jacLambda++
        scal(d, eta, col, 1, 0)
        if (Zp !== undefined) {
          const zj = Zp[j]!
          const jz = problem.jvpW(wPrev, L, zj) // ∂₁Φ(wᵢ₋₁)zⱼ
          jacW++
          axpy(d, eta, jz, 1, 0, col, 1, 0)
          if (eta !== 1) axpy(d, 1 - eta, zj, 1, 0, col, 1, 0)
        }
        Z.push(col)
      }
      return wrap(inner, Z, { phi: 0, jacW, jacLambda })
    },
  }
}

/** Forward mode: carry Zᵢ = dwᵢ/dλ by columns along the iteration. */
const forward = (problem: BilevelProblem, L: Vec, base: LowerSolver, w0: Vec, t: number, K: number, eta: number, name: string): E.Either<HypergradError, HypergradResult> =>
  E.map((run: RunResult<TangentState>) =>
    finish(problem, L, name, run, (w) => {
      const d = problem.dim
      const m = problem.hyperDim
      const b = problem.gradUpperW(w, L)
      const g = problem.gradUpperLambda(w, L)
      const Z = run.state.Z
      if (Z !== undefined) for (let j = 0; j < m; j++) g[j] = g[j]! + dot(d, Z[j]!, 1, 0, b, 1, 0)
      return { gradient: g, v: new Float64Array(0), k: Math.min(K, run.iterations), counts: run.counts, memory: m + 2 }
    }),
  )(drive(tangents(base, t - K + 1, eta), { problem, lambda: L }, w0, rngSeed(0), { maxIter: t }, (s: TangentState) => s.w, 0))
