/**
 * Inexact Newton on the lower objective (Newton-CG, truncated Newton; Dembo, Eisenstat &
 * Steihaug 1982; Nocedal & Wright 2006, Algorithm 7.1): for an ERM problem Φ = w − α∇₁ℓ,
 *
 *   dₜ ≈ −∇²ℓ(wₜ)⁻¹∇ℓ(wₜ)   by conjugate gradient with Hessian-vector products, stopped when
 *                            ‖∇²ℓ dₜ + ∇ℓ‖ ≤ ηₜ‖∇ℓ(wₜ)‖,
 *   wₜ₊₁ = wₜ + sₜdₜ         sₜ from a backtracking line search on ℓ (Armijo, c₁ = 1e-4).
 *
 * The forcing term ηₜ is Eisenstat & Walker's (1996) choice 2, ηₜ = γ(‖∇ℓ(wₜ)‖/‖∇ℓ(wₜ₋₁)‖)²
 * with γ = 0.9, safeguarded by γη²ₜ₋₁ when that exceeds 0.1, kept in [0, ηmax] (ηmax = 0.5,
 * η₀ = ηmax unless given), and never below ½·tol/‖Φ(w) − w‖ when a tolerance is given (no work beyond it). Far
 * from w(λ) the steps are cheap (loose CG solves); near it the convergence is quadratic. With a
 * warm start near w(λ) one or two steps reach the rounding level, whatever the conditioning of
 * ℓ, which only sets the number of CG iterations (≤ √κ log(1/η) each).
 *
 * Refuses (check) a problem that is not ERM. A step costs its CG iterations in Hessian-vector
 * products (counted as products with ∂₁Φ, which is I − α∇²ℓ) and one pass over the data per
 * line-search trial and per gradient (counted as Φ evaluations).
 */
import { dot } from '../../linalg/kernels.js'
import type { RVec, Vec } from '../../linalg/types.js'
import * as E from 'fp-ts/lib/Either.js'
import { checkInteger, checkTolerance, fail } from '../check.js'
import type { LowerSolver, LowerState, Monitored } from '../types.js'
import { armijoSearch, convergedAt, ermSolverFields, ermView, startAt, type ErmView } from './ermObjective.js'

/** Options of `newtonCg`. */
export interface NewtonCgOptions {
  /** Stop once ‖Φ(w) − w‖ = α‖∇ℓ(w)‖ ≤ tol (absolute); also the floor of the forcing term. Default: none (run to the cap or the rounding level). */
  readonly tol?: number
  /** Conjugate-gradient iterations per Newton step, at most (an integer ≥ 1); default min(2d, 1000). */
  readonly maxCg?: number
  /** The largest forcing term ηmax ∈ (0, 1); default 0.5. */
  readonly etaMax?: number
  /**
   * The first step's forcing term η₀ ∈ (0, ηmax]; default ηmax. Far from w(λ) a loose first
   * solve saves work; from a warm start near w(λ) a tight one (1e-2 or below) saves steps.
   */
  readonly eta0?: number
}

/** A Newton-CG state: wₜ, ℓ(wₜ), ∇ℓ(wₜ), the forcing term of the next step, and the residual α‖∇ℓ(wₜ)‖. */
export interface NewtonCgState extends Monitored<LowerState> {
  readonly value: number
  readonly g: Vec
  readonly gNorm: number
  /** The forcing term the next step's CG solve uses. */
  readonly eta: number
  /** CG iterations of the last step (0 at the start). */
  readonly cgIterations: number
}

const GAMMA = 0.9

/**
 * CG on H d = −g from d = 0, stopped at ‖Hd + g‖ ≤ rtol·‖g‖ or after maxIt products; a direction
 * of non-positive curvature (not for a strongly convex ℓ, but rounding) ends it with the
 * iterate so far, or −g on the first iteration.
 */
const cgDirection = (view: ErmView, w: RVec, lambda: RVec, g: RVec, gNorm: number, rtol: number, maxIt: number): { d: Vec; its: number } => {
  const n = g.length
  const d = new Float64Array(n)
  const r = Float64Array.from(g, (x) => -x)
  let p = Float64Array.from(r)
  let rr = gNorm * gNorm
  const stop = rtol * gNorm
  let its = 0
  while (its < maxIt) {
    const hp = view.lower.hvp(w, lambda, p)
    its++
    const pHp = dot(n, p, 1, 0, hp, 1, 0)
    if (!(pHp > 0 && Number.isFinite(pHp))) {
      if (its === 1) return { d: Float64Array.from(r), its }
      break
    }
    const a = rr / pHp
    for (let i = 0; i < n; i++) {
      d[i] = d[i]! + a * p[i]!
      r[i] = r[i]! - a * hp[i]!
    }
    const rrNext = dot(n, r, 1, 0, r, 1, 0)
    if (Math.sqrt(rrNext) <= stop) break
    const beta = rrNext / rr
    rr = rrNext
    const next = new Float64Array(n)
    for (let i = 0; i < n; i++) next[i] = r[i]! + beta * p[i]!
    p = next
  }
  return { d, its }
}

/**
 * The Newton-CG lower solver (see the module comment). State t holds wₜ and ‖Φ(wₜ) − wₜ‖ =
 * α‖∇ℓ(wₜ)‖. The stream ends 'converged' when the residual is ≤ tol or ∇ℓ = 0, and 'stalled'
 * when the line search finds no decrease (the rounding floor of ℓ). Its check refuses a problem
 * that is not ERM, tol < 0, maxCg < 1 and ηmax ∉ (0, 1).
 */
export const newtonCg = (opts: NewtonCgOptions = {}): LowerSolver<NewtonCgState> => {
  const tol = opts?.tol
  const etaMax = opts?.etaMax ?? 0.5
  const eta0 = opts?.eta0 ?? etaMax
  const name = 'newtonCg'
  const done = convergedAt(tol)
  return {
    ...ermSolverFields(name, () => [
      checkTolerance(name, 'tol', tol),
      opts?.maxCg === undefined ? E.right(undefined) : checkInteger(name, 'maxCg', opts.maxCg, 1),
      Number.isFinite(etaMax) && etaMax > 0 && etaMax < 1 ? E.right(etaMax) : fail('domain', name, `etaMax must lie in (0, 1), got ${etaMax}`),
      Number.isFinite(eta0) && eta0 > 0 && eta0 <= Math.max(etaMax, 0) ? E.right(eta0) : fail('domain', name, `eta0 must lie in (0, etaMax = ${etaMax}], got ${eta0}`),
    ]),
    init: ({ problem, lambda }, w0, rng) =>
      done({ ...startAt(ermView(problem)!, lambda, w0), eta: eta0, cgIterations: 0, iter: 0, rng, counts: { phi: 2, jacW: 0, jacLambda: 0 } }),
    step: ({ problem, lambda }, s) => {
      const view = ermView(problem)!
      const n = s.w.length
      const maxCg = opts?.maxCg ?? Math.min(2 * n, 1000)
      const floor = tol === undefined || s.residual === 0 ? 0 : (0.5 * tol) / s.residual
      const eta = Math.min(etaMax, Math.max(s.eta, floor))
      const { d, its } = cgDirection(view, s.w, lambda, s.g, s.gNorm, eta, maxCg)
      // A CG direction is a descent direction for a positive definite Hessian; rounding aside.
      const dir = dot(n, s.g, 1, 0, d, 1, 0) < 0 ? d : Float64Array.from(s.g, (x) => -x)
      const found = armijoSearch(view, lambda, s, dir)
      const iter = s.iter + 1
      const counts = { phi: s.counts.phi + found.values + found.grads, jacW: s.counts.jacW + its, jacLambda: 0 }
      if (!found.ok) return { ...s, iter, counts, cgIterations: its, stop: 'stalled', reason: `${name}: ${found.reason}` }
      const p = found.point
      // Eisenstat–Walker choice 2, with its safeguard.
      const ratio = p.gNorm / s.gNorm
      let next = GAMMA * ratio * ratio
      const guard = GAMMA * eta * eta
      if (guard > 0.1) next = Math.max(next, guard)
      return done({
        ...p,
        eta: Math.min(etaMax, next),
        cgIterations: its,
        iter,
        rng: s.rng,
        counts,
      })
    },
  }
}
