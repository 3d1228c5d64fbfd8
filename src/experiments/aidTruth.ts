/**
 * A reference hypergradient for ERM problems too large for `exact` (whose dense Jacobian is
 * d × d): AID run to the rounding level, with a certificate of how close it is.
 *
 *  - the lower problem by Newton-CG (solvers/lower/newtonCg.ts) from w₀ = 0 until
 *    ‖∇ℓ(ŵ)‖ ≤ gradTol·‖∇ℓ(0)‖; strong convexity then gives ‖ŵ − w(λ)‖ ≤ ‖∇ℓ(ŵ)‖/τ;
 *  - the linear system (I − ∂₁Φ(ŵ)ᵀ)v = ∇₁E(ŵ) by conjugate gradient until the relative
 *    residual, recomputed from scratch, is ≤ linearTol;
 *  - ∇f ≈ ∇₂E(ŵ) + ∂₂Φ(ŵ)ᵀv.
 *
 * The certificate is the pair (radius, relative residual). With Lipschitz constants of B and
 * ∇₁E the a posteriori bound of Ehrhardt & Roberts turns it into a bound on the hypergradient
 * error; for the softmax problems the library has no such constants (bounds/constants.ts), so
 * the certificate is reported as these two numbers, and the experiments' tests check the truth
 * against `exact` on instances small enough for it.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import type { RVec, Vec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { ErmProblem } from '../problem/erm.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { newtonCg } from '../solvers/lower/newtonCg.js'

/** Options of {@link aidTruth}. */
export interface AidTruthOptions {
  /** Newton-CG stops at ‖∇ℓ(ŵ)‖ ≤ gradTol·‖∇ℓ(0)‖ (default 1e-11). */
  readonly gradTol?: number
  /** CG stops at a relative residual ≤ linearTol (default 1e-12). */
  readonly linearTol?: number
  /** Caps: Newton steps (default 60), CG steps per Newton step (default 2000), CG steps on the system (default 20 000). */
  readonly maxNewton?: number
  readonly maxCg?: number
  readonly maxLinear?: number
  /** The certificate must meet these, else a Left of kind 'divergence' (defaults 1e3·gradTol and 1e3·linearTol). */
  readonly acceptGrad?: number
  readonly acceptLinear?: number
}

/** A reference hypergradient with its certificate. */
export interface AidTruth {
  readonly gradient: Vec
  /** ŵ and v. */
  readonly w: Vec
  readonly v: Vec
  /** ‖∇ℓ(ŵ)‖/‖∇ℓ(0)‖. */
  readonly relGradLower: number
  /** ‖ŵ − w(λ)‖ ≤ radius = ‖∇ℓ(ŵ)‖/τ. */
  readonly radius: number
  /** ‖(I − ∂₁Φ(ŵ)ᵀ)v − ∇₁E(ŵ)‖/‖∇₁E(ŵ)‖, recomputed. */
  readonly relResidual: number
  /** Newton steps, and the Hessian-vector products of Newton-CG and of CG on the system. */
  readonly newtonSteps: number
  readonly linearSteps: number
  readonly products: number
}

/** The reference hypergradient of an ERM problem at λ (see the module comment). */
export const aidTruth = (problem: ErmProblem, lambda: RVec, opts: AidTruthOptions = {}): E.Either<HypergradError, AidTruth> => {
  const gradTol = opts.gradTol ?? 1e-11
  const linearTol = opts.linearTol ?? 1e-12
  const g0 = norm(problem.lower.grad(new Float64Array(problem.dim), lambda))
  const res = aid(problem, lambda, {
    lower: newtonCg({ tol: gradTol * problem.alpha * g0, maxCg: opts.maxCg ?? 2000, eta0: 0.1 }),
    linear: conjugateGradient(),
    t: opts.maxNewton ?? 60,
    k: opts.maxLinear ?? 20_000,
    tolLinear: linearTol,
  })
  if (E.isLeft(res)) return res
  const r = res.right
  if (r.status === 'diverged') return E.left(hgError('divergence', `aidTruth(${problem.name}): ${r.reason}`))
  const gl = norm(problem.lower.grad(r.w, lambda))
  const { tau } = problem.lower.curvature(lambda)
  const b = norm(problem.gradUpperW(r.w, lambda))
  const relGradLower = g0 > 0 ? gl / g0 : 0
  const relResidual = b > 0 ? (r.linearResidual ?? NaN) / b : 0
  const acceptGrad = opts.acceptGrad ?? 1e3 * gradTol
  const acceptLinear = opts.acceptLinear ?? 1e3 * linearTol
  if (!(relGradLower <= acceptGrad && relResidual <= acceptLinear))
    return E.left(
      hgError(
        'divergence',
        `aidTruth(${problem.name}): no certified reference: ‖∇ℓ(ŵ)‖/‖∇ℓ(0)‖ = ${relGradLower.toExponential(2)} (need ≤ ${acceptGrad}), relative residual ${relResidual.toExponential(2)} (need ≤ ${acceptLinear})`,
      ),
    )
  return E.right({
    gradient: r.gradient,
    w: r.w,
    v: r.v,
    relGradLower,
    radius: gl / tau,
    relResidual,
    newtonSteps: r.t,
    linearSteps: r.k,
    products: r.counts.jacW,
  })
}
