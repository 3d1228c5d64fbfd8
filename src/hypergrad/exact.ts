/**
 * The exact hypergradient, by dense direct solves: the reference every other method is
 * compared with (Grazzi et al. 2020; SID eq. 4–5),
 *
 *   w(λ) = Φ(w(λ), λ),   (I − ∂₁Φ(w, λ)ᵀ) v = ∇₁E(w, λ),   ∇f(λ) = ∇₂E(w, λ) + ∂₂Φ(w, λ)ᵀ v.
 *
 * It is the implicit run of aid with two direct solvers: w(λ) solves F(w) = w − Φ(w, λ) = 0 by
 * Newton's method with the dense Jacobian J = I − ∂₁Φ(w, λ) (solvers.lower.newton), then v
 * solves Jᵀv = ∇₁E at the final w by a dense factorization (solvers.linear.direct): Cholesky
 * when the problem is symmetric (J is then symmetric positive definite, its spectrum in
 * [1 − q, 1 + q]) and LU otherwise.
 *
 * Cost: per Newton step, d products ∂₁Φ eⱼ (the Jacobian), one LU factorization (O(d³)
 * flops) and one Φ evaluation per line-search trial; then d more products for J at the final
 * w, one factorization and one ∂₂Φᵀ product. For the affine maps of the quadratic, ridge and
 * linear fixed-point problems one Newton step suffices. Practical up to d ≈ 1000 (for an ERM
 * map a product ∂₁Φ eⱼ is a Hessian-vector product, i.e. one pass over the data).
 *
 * A problem that builds I − ∂₁Φ densely itself (`DenseSystemMatrix`: an ERM problem whose lower
 * objective offers its Hessian, J = α∇²ℓ) skips the d products: on MNIST (d = 784, n = 5000)
 * the sparse Gram matrix costs about as much as 75 Hessian-vector products instead of 784, and
 * J, being symmetric positive definite, is factored by Cholesky (half the flops of LU) in the
 * Newton steps too. Counts still charge d Jacobian products per dense J (the same information).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { freemem } from 'node:os'
import type { HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { checkContraction, checkCount, checkLambda, checkStart, checkTolerance, fail } from '../solvers/check.js'
import { direct } from '../solvers/linear/direct.js'
import { newton } from '../solvers/lower/newton.js'
import { runImplicit } from './implicit.js'
import type { HypergradResult } from './types.js'

/** Options of the exact hypergradient. */
export interface ExactOptions {
  /** Newton's start; default 0. */
  readonly w?: RVec
  /** Stop Newton when ‖w − Φ(w, λ)‖ ≤ tol; default 1e-12·(1 + ‖w‖) at the current w. */
  readonly tol?: number
  /** At most this many Newton steps (an integer ≥ 0); default 50. */
  readonly maxNewton?: number
}

/** Bytes the dense solves hold at once: J, its factor and a transposed or dense copy (three d × d matrices). */
export const exactMemoryBytes = (d: number): number => 3 * 8 * d * d

/** The largest dimension whose dense solves fit in the given number of bytes. */
const fits = (who: string, d: number): E.Either<HypergradError, void> => {
  const need = exactMemoryBytes(d)
  const free = freemem()
  return need <= free && d * d <= 2 ** 32
    ? E.right(undefined)
    : fail('domain', who, `the dense solves for d = ${d} need about ${(need / 2 ** 30).toFixed(1)} GiB (three ${d}×${d} matrices) but ${(free / 2 ** 30).toFixed(1)} GiB are free: use aid (e.g. heavy ball + conjugate gradient) for a problem this size`)
}

/**
 * The exact hypergradient ∇f(λ) by Newton's method on w − Φ(w, λ) = 0 and a dense solve of
 * (I − ∂₁Φᵀ)v = ∇₁E (see the module comment). Validates λ, q < 1, the start w, tol ≥ 0 and
 * maxNewton, and refuses (Left naming the size) a dimension whose dense matrices would not fit
 * in free memory. Status 'converged' when ‖w − Φ(w)‖ ≤ tol was reached; 'maxIter' when Newton
 * hit maxNewton or its line search could not decrease ‖F‖ any more (the rounding floor), with
 * the reason. A singular Jacobian or a non-finite result is a diverged result. `t` is the
 * number of Newton steps; `linearResiduals` holds the dense solve's residuals.
 */
export const exact = (problem: BilevelProblem, lambda: RVec, opts: ExactOptions = {}): E.Either<HypergradError, HypergradResult> => {
  const who = 'exact'
  return pipe(
    E.Do,
    E.apS('lambda', checkLambda(who, problem, lambda)),
    E.chainFirst(({ lambda: lam }) => checkContraction(who, problem, lam)),
    E.apS('w0', checkStart(who, 'w', opts.w, problem.dim)),
    E.apS('tol', checkTolerance(who, 'tol', opts.tol)),
    E.apS('maxNewton', checkCount(who, 'maxNewton', opts.maxNewton ?? 50)),
    E.chainFirst(() => fits(who, problem.dim)),
    E.chain((c) =>
      runImplicit(problem, c.lambda, {
        method: who,
        lower: newton(c.tol === undefined ? {} : { tol: c.tol }),
        linear: direct(),
        t: c.maxNewton,
        k: 1,
        w0: c.w0,
        v0: new Float64Array(problem.dim),
        seed: 0,
        final: { kind: 'exact' },
        trueResidual: false,
      }),
    ),
    E.map((r) =>
      r.status === 'maxIter' && r.reason === undefined && r.lowerResiduals.length > 0
        ? { ...r, value: r.value, reason: `‖w − Φ(w)‖ = ${r.lowerResiduals[r.lowerResiduals.length - 1]!.toExponential(3)} > tol after ${r.t} Newton steps` }
        : r,
    ),
  )
}
