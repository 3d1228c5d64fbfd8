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
 * Relation to AID (Ehrhardt & Roberts' unification): when all wᵢ coincide with one point w
 * (start at the fixed point, w₀ = w(λ)), Σᵢ pᵢ-terms collapse to
 * ∂₂Φ(w)ᵀ · η Σ_{j=0}^{K−1} ((1 − η)I + η∂₁Φᵀ)ʲ ∇₁E(w), which is ∂₂Φ(w)ᵀvₖ for vₖ the K-th
 * iterate of the relaxed fixed-point (Richardson) iteration on (I − ∂₁Φᵀ)v = ∇₁E from v₀ = 0
 * (η = 1: AID-FP with k = K). The same holds from any w₀ when ∂₁Φ and ∂₂Φ do not depend on w.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, dot, scal } from '../linalg/kernels.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { seed as rngSeed } from '../random/rng.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { runLower, type RunResult } from '../solvers/run.js'
import type { Counts, LowerState } from '../solvers/types.js'
import { fromIterator, type Stream } from '../stream/stream.js'
import type { HypergradResult } from './types.js'
import { allFinite, checkContraction, checkCount, checkLambda, checkPositive, checkStart } from './validate.js'

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
}

/** ITD's result. */
export interface ItdResult extends HypergradResult {
  readonly mode: 'reverse' | 'forward'
  /** When diverged: what failed. */
  readonly reason?: string
}

const addCounts = (a: Counts, b: Counts): Counts => ({ phi: a.phi + b.phi, jacW: a.jacW + b.jacW, jacLambda: a.jacLambda + b.jacLambda })

/** A lower state carrying Zᵢ = dwᵢ/dλ by columns (undefined while Zᵢ = 0). */
interface TangentState extends LowerState {
  readonly Z: ReadonlyArray<Vec> | undefined
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
 * ∂₁Φ and m with ∂₂Φ per step (O(m) products per step, against O(1) in reverse mode); it has
 * no adjoint, so its `v` is empty (length 0).
 *
 * Validates t, truncate (integers ≥ 0), mode, λ, q < 1, w₀ and η > 0 (Left naming the fault).
 * The forward pass is watched for divergence (solvers/run.ts): status 'diverged' with the
 * iteration, and the gradient is then that of the last finite iterates; a non-finite gradient
 * is a Left of kind 'divergence'. Otherwise status is 'maxIter' (ITD has no tolerance).
 * `counts.phi` is t + 1: the iteration also evaluates Φ(wₜ) for the residual ‖Φ(wₜ) − wₜ‖.
 */
export const itd = (problem: BilevelProblem, lambda: RVec, opts: ItdOptions): E.Either<HypergradError, ItdResult> => {
  const who = `itd-${opts.mode}`
  if (opts.mode !== 'reverse' && opts.mode !== 'forward')
    return E.left(hgError('config', `itd: mode must be 'reverse' or 'forward', got ${String(opts.mode)}`))
  const t = checkCount(who, 't', opts.t)
  if (E.isLeft(t)) return t
  const trunc = checkCount(who, 'truncate', opts.truncate ?? t.right)
  if (E.isLeft(trunc)) return trunc
  const lam = checkLambda(who, problem, lambda)
  if (E.isLeft(lam)) return lam
  const q = checkContraction(who, problem, lam.right)
  if (E.isLeft(q)) return q
  const w0 = checkStart(who, 'w₀', opts.w0, problem.dim)
  if (E.isLeft(w0)) return w0
  const eta = checkPositive(who, 'η', opts.eta, 1)
  if (E.isLeft(eta)) return eta
  const K = Math.min(trunc.right, t.right)
  const L = lam.right
  const base = fixedPointIteration({ eta: eta.right }).iterates(problem, L, w0.right, rngSeed(0))
  const name = `${who}${K < t.right ? `(truncate=${K})` : ''}${eta.right === 1 ? '' : `(η=${eta.right})`}`
  const out =
    opts.mode === 'reverse'
      ? reverse(problem, L, base, t.right, K, eta.right)
      : forward(problem, L, base, t.right, K, eta.right)
  if (!allFinite(out.gradient))
    return E.left(
      hgError('divergence', `${name}: the hypergradient is not finite${out.run.status === 'diverged' ? ` (the iteration diverged at step ${out.run.divergedAt}: ${out.run.reason})` : ''}`),
    )
  const run = out.run
  return E.right({
    method: name,
    mode: opts.mode,
    gradient: out.gradient,
    value: problem.upper(run.state.w, L),
    w: Float64Array.from(run.state.w),
    v: out.v,
    t: run.iterations,
    k: out.k,
    lowerResiduals: run.residuals,
    linearResiduals: new Float64Array(0),
    counts: out.counts,
    status: run.status,
    memoryVectors: out.memory,
    ...(run.status === 'diverged'
      ? { divergedAt: { stage: 'lower' as const, iter: run.divergedAt ?? run.iterations }, reason: run.reason ?? 'diverged' }
      : {}),
  })
}

interface Pass {
  readonly run: RunResult<LowerState>
  readonly gradient: Vec
  readonly v: Vec
  readonly k: number
  readonly counts: Counts
  readonly memory: number
}

/** Reverse mode over the last K + 1 stored iterates. */
const reverse = (problem: BilevelProblem, L: RVec, base: Stream<LowerState>, t: number, K: number, eta: number): Pass => {
  const run = runLower(base, { maxIter: t, keep: K + 1 })
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
  return {
    run,
    gradient: g,
    v,
    k: Math.max(0, kept.length - 1),
    counts: addCounts(run.counts, { phi: 0, jacW, jacLambda }),
    memory: kept.length,
  }
}

/** Forward mode: carry Zᵢ = dwᵢ/dλ by columns along the stream. */
const forward = (problem: BilevelProblem, L: RVec, base: Stream<LowerState>, t: number, K: number, eta: number): Pass => {
  const d = problem.dim
  const m = problem.hyperDim
  const firstActive = t - K + 1 // steps i ≥ firstActive are differentiated
  const tangents: Stream<TangentState> = fromIterator(function* () {
    let prev: TangentState | undefined
    let i = 0
    let jacW = 0
    let jacLambda = 0
    for (const s of base) {
      let Z: Vec[] | undefined
      if (prev !== undefined && i >= firstActive) {
        const wPrev = prev.w
        const Zp = prev.Z
        Z = []
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
      }
      const st: TangentState = { w: s.w, iter: s.iter, counts: addCounts(s.counts, { phi: 0, jacW, jacLambda }), Z, ...(s.residual === undefined ? {} : { residual: s.residual }) }
      yield st
      prev = st
      i++
    }
  })
  const run = runLower(tangents, { maxIter: t })
  const w = run.state.w
  const b = problem.gradUpperW(w, L)
  const g = problem.gradUpperLambda(w, L)
  const Z = run.state.Z
  if (Z !== undefined) for (let j = 0; j < m; j++) g[j] = g[j]! + dot(d, Z[j]!, 1, 0, b, 1, 0)
  return {
    run,
    gradient: g,
    v: new Float64Array(0),
    k: Math.min(K, run.iterations),
    counts: run.counts,
    memory: m + 2,
  }
}
