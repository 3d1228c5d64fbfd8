/**
 * L-BFGS on the lower objective (Liu & Nocedal 1989; Nocedal & Wright 2006, Algorithm 7.4 and
 * 7.5) for an ERM problem Φ = w − α∇₁ℓ:
 *
 *   dₜ = −Hₜ∇ℓ(wₜ)   by the two-loop recursion over the last m pairs sᵢ = wᵢ₊₁ − wᵢ,
 *                    yᵢ = ∇ℓ(wᵢ₊₁) − ∇ℓ(wᵢ), with H⁰ₜ = (sᵀy/yᵀy)·I from the newest pair,
 *   wₜ₊₁ = wₜ + sₜdₜ  sₜ from a backtracking line search on ℓ (Armijo, c₁ = 1e-4, first trial 1).
 *
 * The first step, with no pair yet, is the fixed-point step −α∇ℓ (Φ(w) − w). A strongly convex
 * ℓ gives sᵀy ≥ τ‖s‖² > 0 for every step, so every pair is kept (a pair with sᵀy ≤ 1e-12·‖s‖‖y‖,
 * possible only through rounding, is skipped). Only gradients and values: no Hessian products,
 * which makes it the choice when those are dear (the ad engine's products cost ~3 gradients).
 *
 * Refuses (check) a problem that is not ERM. A step costs one pass over the data per line-search
 * trial and one gradient (counted as Φ evaluations), and O(md) arithmetic.
 */
import * as E from 'fp-ts/lib/Either.js'
import { dot } from '../../linalg/kernels.js'
import type { Vec } from '../../linalg/types.js'
import { checkTolerance, fail } from '../check.js'
import type { LowerSolver, LowerState, Monitored } from '../types.js'
import { armijoSearch, convergedAt, ermSolverFields, ermView, norm, startAt } from './ermObjective.js'

/** Options of the lower-level `lbfgs`. */
export interface LbfgsLowerOptions {
  /** Pairs (s, y) kept: an integer in [1, 1000]; default 10. */
  readonly memory?: number
  /** Stop once ‖Φ(w) − w‖ = α‖∇ℓ(w)‖ ≤ tol (absolute). Default: none. */
  readonly tol?: number
}

/** An L-BFGS state: wₜ, ℓ(wₜ), ∇ℓ(wₜ), the kept pairs (oldest first) and the residual α‖∇ℓ(wₜ)‖. */
export interface LbfgsLowerState extends Monitored<LowerState> {
  readonly value: number
  readonly g: Vec
  readonly gNorm: number
  readonly s: ReadonlyArray<Vec>
  readonly y: ReadonlyArray<Vec>
  /** 1/(sᵢᵀyᵢ) for each kept pair. */
  readonly rho: ReadonlyArray<number>
}

/** d = −H∇ℓ by the two-loop recursion (fresh). */
const twoLoop = (st: LbfgsLowerState, alpha: number): Vec => {
  const n = st.g.length
  const m = st.s.length
  const q = Float64Array.from(st.g)
  if (m === 0) {
    for (let i = 0; i < n; i++) q[i] = -alpha * q[i]!
    return q
  }
  const a = new Float64Array(m)
  for (let k = m - 1; k >= 0; k--) {
    const s = st.s[k]!, y = st.y[k]!
    const ak = st.rho[k]! * dot(n, s, 1, 0, q, 1, 0)
    a[k] = ak
    for (let i = 0; i < n; i++) q[i] = q[i]! - ak * y[i]!
  }
  const sN = st.s[m - 1]!, yN = st.y[m - 1]!
  const gamma = dot(n, sN, 1, 0, yN, 1, 0) / dot(n, yN, 1, 0, yN, 1, 0)
  for (let i = 0; i < n; i++) q[i] = gamma * q[i]!
  for (let k = 0; k < m; k++) {
    const s = st.s[k]!, y = st.y[k]!
    const b = st.rho[k]! * dot(n, y, 1, 0, q, 1, 0)
    const c = a[k]! - b
    for (let i = 0; i < n; i++) q[i] = q[i]! + c * s[i]!
  }
  for (let i = 0; i < n; i++) q[i] = -q[i]!
  return q
}

/**
 * The lower-level L-BFGS solver (see the module comment). State t holds wₜ and ‖Φ(wₜ) − wₜ‖ =
 * α‖∇ℓ(wₜ)‖. The stream ends 'converged' when the residual is ≤ tol or ∇ℓ = 0, and 'stalled'
 * when the line search finds no decrease along −∇ℓ either (the rounding floor of ℓ). Its check
 * refuses a problem that is not ERM, a memory outside [1, 1000] and tol < 0.
 */
export const lbfgs = (opts: LbfgsLowerOptions = {}): LowerSolver<LbfgsLowerState> => {
  const memory = opts?.memory ?? 10
  const tol = opts?.tol
  const name = `lbfgs(m=${memory})`
  const done = convergedAt(tol)
  return {
    ...ermSolverFields(name, () => [
      Number.isInteger(memory) && memory >= 1 && memory <= 1000 ? E.right(memory) : fail('domain', name, `memory must be an integer in [1, 1000], got ${memory}`),
      checkTolerance(name, 'tol', tol),
    ]),
    init: ({ problem, lambda }, w0, rng) =>
      done({ ...startAt(ermView(problem)!, lambda, w0), s: [], y: [], rho: [], iter: 0, rng, counts: { phi: 2, jacW: 0, jacLambda: 0 } }),
    step: ({ problem, lambda }, st) => {
      const view = ermView(problem)!
      const n = st.w.length
      let d = twoLoop(st, view.alpha)
      let restarted = false
      if (!(dot(n, st.g, 1, 0, d, 1, 0) < 0)) {
        d = Float64Array.from(st.g, (x) => -view.alpha * x)
        restarted = true
      }
      let found = armijoSearch(view, lambda, st, d)
      let passes = found.values + found.grads
      if (!found.ok && !restarted && st.s.length > 0) {
        // The quasi-Newton direction failed: once more along the fixed-point step, forgetting the pairs.
        found = armijoSearch(view, lambda, st, Float64Array.from(st.g, (x) => -view.alpha * x))
        passes += found.values + found.grads
        restarted = true
      }
      const iter = st.iter + 1
      const counts = { phi: st.counts.phi + passes, jacW: 0, jacLambda: 0 }
      if (!found.ok) return { ...st, iter, counts, stop: 'stalled', reason: `${name}: ${found.reason}` }
      const p = found.point
      const sNew = new Float64Array(n)
      const yNew = new Float64Array(n)
      for (let i = 0; i < n; i++) {
        sNew[i] = p.w[i]! - st.w[i]!
        yNew[i] = p.g[i]! - st.g[i]!
      }
      const sy = dot(n, sNew, 1, 0, yNew, 1, 0)
      const keep = sy > 1e-12 * norm(sNew) * norm(yNew)
      const base = restarted ? { s: [] as Vec[], y: [] as Vec[], rho: [] as number[] } : { s: st.s, y: st.y, rho: st.rho }
      const drop = keep && base.s.length >= memory ? 1 : 0
      return done({
        ...p,
        s: keep ? [...base.s.slice(drop), sNew] : base.s,
        y: keep ? [...base.y.slice(drop), yNew] : base.y,
        rho: keep ? [...base.rho.slice(drop), 1 / sy] : base.rho,
        iter,
        rng: st.rng,
        counts,
      })
    },
  }
}
