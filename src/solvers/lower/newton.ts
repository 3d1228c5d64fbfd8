/**
 * Newton's method on the fixed-point equation F(w) = w − Φ(w, λ) = 0, with the dense Jacobian
 * J = I − ∂₁Φ(w, λ) (from the problem's own dense builder, or from d products ∂₁Φ eⱼ), factored
 * by Cholesky when the problem is symmetric (J is then symmetric positive definite, its
 * spectrum in [1 − q, 1 + q]) and by LU with partial pivoting otherwise, and a backtracking line
 * search on ‖F‖ (the Newton step is a descent direction for ½‖F‖²; Armijo with c = 1e-4).
 * For the affine maps of the quadratic, ridge and linear fixed-point problems one step
 * suffices. O(d²) memory and O(d³) flops per step: the lower solver of `exact`, for small d.
 */
import { axpy, nrm2 } from '../../linalg/kernels.js'
import { cholesky, choleskySolve, luSolve } from '../../linalg/matrix.js'
import type { RVec, Vec } from '../../linalg/types.js'
import type { BilevelProblem } from '../../problem/bilevel.js'
import { checkTolerance } from '../check.js'
import { jacobianMatrix } from '../linearSystem.js'
import type { LowerSolver, LowerState, Monitored } from '../types.js'
import { isFiniteVec } from '../../linalg/vector.js'
import { fullBatch } from '../solver.js'

/** Options of `newton`. */
export interface NewtonOptions {
  /** Stop once ‖w − Φ(w, λ)‖ ≤ tol (absolute); default 1e-12·(1 + ‖w‖) at the current w. */
  readonly tol?: number
}

/** A Newton state: wₜ, F(wₜ) = wₜ − Φ(wₜ, λ) and its norm (the residual). */
export interface NewtonState extends Monitored<LowerState> {
  readonly F: RVec
}

const norm = (x: RVec): number => nrm2(x.length, x, 1, 0)

/** F(w) = w − Φ(w, λ), fresh. */
const residualMap = (problem: BilevelProblem, w: RVec, lambda: RVec): Vec => {
  const f = problem.phi(w, lambda)
  for (let i = 0; i < f.length; i++) f[i] = w[i]! - f[i]!
  return f
}

/**
 * Newton's method on w − Φ(w, λ) = 0 (see the module comment). State t is the t-th Newton
 * iterate; a step costs one dense Jacobian (d products, counted as such) and one Φ evaluation
 * per line-search trial. The stream ends converged at the first iterate with ‖F‖ ≤ tol; it
 * ends 'stalled' when the line search cannot decrease ‖F‖ any more (the rounding floor), and
 * 'diverged' when the Jacobian is numerically singular.
 */
export const newton = (opts: NewtonOptions = {}): LowerSolver<NewtonState> => {
  const tol = opts?.tol
  const name = 'newton'
  const tolAt = (w: RVec): number => tol ?? 1e-12 * (1 + norm(w))
  const converged = (s: NewtonState): NewtonState => (s.residual <= tolAt(s.w) ? { ...s, stop: 'converged' } : s)
  return {
    ...fullBatch('lower', name),
    check: () => checkTolerance(name, 'tol', tol),
    init: ({ problem, lambda }, w0, rng) => {
      const w = Float64Array.from(w0)
      const F = residualMap(problem, w, lambda)
      return converged({ w, F, residual: norm(F), iter: 0, rng, counts: { phi: 1, jacW: 0, jacLambda: 0 } })
    },
    step: ({ problem, lambda }, s) => {
      const d = problem.dim
      const { w, F, residual: nF } = s
      const J = jacobianMatrix(problem, w, lambda)
      let { phi, jacW } = s.counts
      jacW += d
      const neg = Float64Array.from(F, (x) => -x)
      const chol = problem.symmetric ? cholesky(J) : undefined
      const delta = chol !== undefined ? choleskySolve(chol, neg) : luSolve(J, neg)
      const iter = s.iter + 1
      if (delta === undefined || !isFiniteVec(delta))
        return { ...s, iter, counts: { ...s.counts, jacW }, stop: 'diverged', reason: `newton: the Jacobian I − ∂₁Φ is numerically singular at Newton step ${s.iter}` }
      // Backtracking on ‖F‖.
      let step = 1
      for (let h = 0; h < 60; h++) {
        const wn = Float64Array.from(w)
        axpy(d, step, delta, 1, 0, wn, 1, 0)
        const Fn = residualMap(problem, wn, lambda)
        phi++
        const nFn = norm(Fn)
        if (Number.isFinite(nFn) && nFn <= (1 - 1e-4 * step) * nF)
          return converged({ w: wn, F: Fn, residual: nFn, iter, rng: s.rng, counts: { phi, jacW, jacLambda: 0 } })
        step /= 2
      }
      return {
        ...s,
        iter,
        counts: { phi, jacW, jacLambda: 0 },
        stop: 'stalled',
        reason: `newton: the line search could not decrease ‖w − Φ(w)‖ = ${nF.toExponential(3)} below tol ${tolAt(w).toExponential(3)} (rounding floor)`,
      }
    },
  }
}
