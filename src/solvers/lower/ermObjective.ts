/**
 * What the lower solvers that minimize ℓ directly (Newton-CG, L-BFGS) share: access to the
 * objective of an ERM problem (Φ = w − α∇₁ℓ, SID eq. 3), the check that refuses any other
 * problem, and a backtracking line search on ℓ (Armijo; Nocedal & Wright 2006, Algorithm 3.1)
 * that knows the rounding floor of ℓ.
 *
 * These solvers are not iterations of Φ: they reach w(λ) = argmin ℓ(·, λ) in a few steps whose
 * work depends on the conditioning of ℓ only through the inner conjugate-gradient iterations
 * (Newton-CG) or not at all beyond the memory (L-BFGS near the solution). They report the
 * residual the solver laws ask of every lower solver, ‖Φ(w) − w‖ = α‖∇₁ℓ(w, λ)‖, computed from
 * the gradient they need anyway.
 */
import * as E from 'fp-ts/lib/Either.js'
import { dot } from '../../linalg/kernels.js'
import type { RVec, Vec } from '../../linalg/types.js'
import type { BilevelProblem } from '../../problem/bilevel.js'
import type { LowerObjective } from '../../problem/erm.js'
import { allOf, fail, firstOf, type Check } from '../check.js'
import type { LowerState } from '../types.js'
import { fullBatch } from '../solver.js'

/** The parts of an ERM problem these solvers read: ℓ (value, gradient, Hessian-vector product) and the step α of Φ. */
export interface ErmView {
  readonly lower: Pick<LowerObjective, 'value' | 'grad' | 'hvp'>
  readonly alpha: number
}

/** The problem as an ERM problem (an object with `lower` = ℓ and a step α > 0), or undefined. */
export const ermView = (problem: BilevelProblem): ErmView | undefined => {
  const p = problem as Partial<ErmView>
  const l = p.lower as Partial<LowerObjective> | undefined
  return typeof l === 'object' &&
    l !== null &&
    typeof l.value === 'function' &&
    typeof l.grad === 'function' &&
    typeof l.hvp === 'function' &&
    typeof p.alpha === 'number' &&
    Number.isFinite(p.alpha) &&
    p.alpha > 0
    ? (p as ErmView)
    : undefined
}

/** Refuse a problem that is not an ERM problem: these solvers minimize ℓ and need it. */
export const checkErm = (who: string, problem: BilevelProblem): Check<ErmView> => {
  const v = ermView(problem)
  return v !== undefined
    ? E.right(v)
    : fail(
        'config',
        who,
        `minimizes the lower objective ℓ and needs an ERM problem (Φ = w − α∇₁ℓ, built by ermProblem, logisticProblem, ridgeProblem, adErmProblem, …), but ${problem?.name ?? 'the problem'} exposes no ℓ: use a fixed-point solver (fixedPointIteration, heavyBall) or newton`,
      )
}

/** checkErm first; then, on an ERM problem, all of the solver's option checks. */
export const checkErmAnd = (who: string, problem: BilevelProblem, ...checks: ReadonlyArray<Check<unknown>>): Check<void> =>
  firstOf(
    () => checkErm(who, problem),
    () => allOf(...checks),
  )

/** The fields of a lower solver value that minimizes ℓ: full-batch, and its check is checkErmAnd with the option checks `options()` makes. */
export const ermSolverFields = (name: string, options: () => ReadonlyArray<Check<unknown>>) => ({
  ...fullBatch('lower', name),
  check: (problem: BilevelProblem) => checkErmAnd(name, problem, ...options()),
})

export const norm = (x: RVec): number => Math.sqrt(dot(x.length, x, 1, 0, x, 1, 0))

/** The start of a descent on ℓ: a copy of w₀, ℓ and ∇ℓ there (two passes) and the residual α‖∇ℓ‖. */
export const startAt = (view: ErmView, lambda: RVec, w0: RVec): Point => {
  const w = Float64Array.from(w0)
  const g = view.lower.grad(w, lambda)
  const gNorm = norm(g)
  const value = view.lower.value(w, lambda)
  return { w, value, g, gNorm, residual: view.alpha * gNorm }
}

/** The stopping test of a descent on ℓ: 'converged' when ∇ℓ = 0 or the residual is ≤ tol. */
export const convergedAt =
  (tol: number | undefined) =>
  <S extends LowerState & { readonly gNorm: number; readonly residual: number }>(s: S): S =>
    s.gNorm === 0 || (tol !== undefined && s.residual <= tol) ? { ...s, stop: 'converged' } : s

/** A point with ℓ and ∇ℓ there, and the residual ‖Φ(w) − w‖ = α‖∇ℓ‖. */
export interface Point {
  readonly w: Vec
  readonly value: number
  readonly g: Vec
  readonly gNorm: number
  readonly residual: number
}

/** The outcome of a line search: the accepted point and the passes over the data spent, or a stall. */
export type SearchResult =
  | { readonly ok: true; readonly point: Point; readonly step: number; readonly values: number; readonly grads: number }
  | { readonly ok: false; readonly values: number; readonly grads: number; readonly reason: string }

/** Sufficient-decrease constant c₁ of the Armijo test. */
export const ARMIJO_C1 = 1e-4
/** Two values of ℓ closer than this (relative) are indistinguishable after rounding. */
const FLAT = 1e-13
const MAX_TRIALS = 40

/**
 * Backtracking from step 1 along a descent direction d at `from` (gᵀd < 0): the first step t
 * with ℓ(w + td) ≤ ℓ(w) + c₁t gᵀd, the next trial being the minimizer of the quadratic through
 * ℓ(w), the slope and ℓ(w + td), kept in [t/10, t/2]. Where ℓ(w + td) and ℓ(w) agree to rounding
 * (near the minimizer, where the decrease c₁t gᵀd is below the rounding of ℓ), the gradient
 * decides: the trial is accepted when ‖∇ℓ‖ decreased. Fails after 40 trials.
 */
export const armijoSearch = (view: ErmView, lambda: RVec, from: Point, d: RVec): SearchResult => {
  const { lower } = view
  const n = from.w.length
  const slope = dot(n, from.g, 1, 0, d, 1, 0)
  let values = 0
  let grads = 0
  let t = 1
  for (let trial = 0; trial < MAX_TRIALS; trial++) {
    const w = new Float64Array(n)
    for (let i = 0; i < n; i++) w[i] = from.w[i]! + t * d[i]!
    const value = lower.value(w, lambda)
    values++
    if (Number.isFinite(value)) {
      if (value <= from.value + ARMIJO_C1 * t * slope) {
        const g = lower.grad(w, lambda)
        grads++
        const gNorm = norm(g)
        return { ok: true, point: { w, value, g, gNorm, residual: view.alpha * gNorm }, step: t, values, grads }
      }
      if (Math.abs(value - from.value) <= FLAT * Math.max(Math.abs(value), Math.abs(from.value))) {
        const g = lower.grad(w, lambda)
        grads++
        const gNorm = norm(g)
        if (gNorm < from.gNorm) return { ok: true, point: { w, value, g, gNorm, residual: view.alpha * gNorm }, step: t, values, grads }
      }
      const curv = value - from.value - t * slope
      const tq = curv > 0 ? (-slope * t * t) / (2 * curv) : t / 2
      t = Math.min(t / 2, Math.max(t / 10, tq))
    } else t /= 10
  }
  return {
    ok: false,
    values,
    grads,
    reason: `no step along the search direction decreases ℓ (‖∇ℓ‖ = ${from.gNorm.toExponential(3)}): the rounding floor of ℓ`,
  }
}
