/**
 * A direct solve of A v = b: the dense matrix A (the system's own `dense`, e.g. the AID system's
 * Jᵀ from a Gram matrix, or n products with A), factored by Cholesky when the system is
 * symmetric and by LU with partial pivoting otherwise. One step reaches the solution up to
 * rounding; the linear solver of `exact`. O(n²) memory and O(n³) flops: for small systems.
 */
import { cholesky, choleskySolve, denseOf, luSolve, matVec } from '../../linalg/matrix.js'
import { trueResidual } from '../linearSystem.js'
import type { LinearSolver, LinearState, Monitored } from '../types.js'
import { distance, isFiniteVec } from '../../linalg/vector.js'
import { noOptions } from '../check.js'
import { fullBatch } from '../solver.js'

/** A direct-solve state: v₀ (iter 0) or the solution (iter 1), with its residual ‖A v − b‖. */
export type DirectState = Monitored<LinearState>

/**
 * The direct solver: state 0 is v₀ with its residual (one product with A), state 1 the
 * solution of the dense factorization with its residual computed densely, flagged converged.
 * A numerically singular (or, for a symmetric system, not positive definite) matrix ends the
 * stream with stop 'diverged'. Counts charge n products for the dense A.
 */
export const direct = (): LinearSolver<DirectState> => ({
  ...fullBatch('linear', 'direct'),
  check: noOptions,
  init: (system, v0, rng) => {
    const v = Float64Array.from(v0)
    const zero = v.every((x) => x === 0)
    return { v, iter: 0, residual: zero ? distance(v, system.rhs) : trueResidual(system, v), rng, counts: { phi: 0, jacW: zero ? 0 : 1, jacLambda: 0 } }
  },
  step: (system, s) => {
    const n = system.dim
    const A = system.dense?.() ?? denseOf(n, system.matvec)
    const counts = { phi: 0, jacW: s.counts.jacW + n, jacLambda: 0 }
    const chol = system.symmetric ? cholesky(A) : undefined
    const v = chol !== undefined ? choleskySolve(chol, system.rhs) : luSolve(A, system.rhs)
    if (v === undefined || !isFiniteVec(v))
      return { ...s, iter: 1, counts, stop: 'diverged', reason: `direct: the ${n}×${n} system is numerically singular` }
    return { v, iter: 1, residual: distance(matVec(A, v), system.rhs), rng: s.rng, counts, stop: 'converged' }
  },
})
