/**
 * The ground truth of the MNIST experiments: w(λ), f(λ) and ∇f(λ) of L2-regularized logistic
 * regression (SID §6), accurate to about 1e-10 relative, by Newton's method on ℓ(·, λ) with the
 * dense Hessian (the library's weighted Gram matrix and Cholesky, into one reused buffer) and
 * iterative refinement of H v = ∇₁E against the exact Hessian-vector product; then
 * ∇f(λ) = −⟨w, v⟩ (scalar λ) or −w ⊙ v (one λ per feature): the derivation, and why α cancels,
 * are in docs/theory/solvers.md §7.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { Dataset } from '../data/dataset.js'
import { gemv } from '../linalg/kernels.js'
import { choleskyInPlace, refineSolve } from '../linalg/matrix.js'
import { weightedGramInto } from '../linalg/gram.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import { isFiniteVec, norm } from '../linalg/vector.js'
import {
  d2psi,
  logisticObjective,
  logisticUpper,
  validateDataset,
  validateSplit,
  type Regularization,
} from '../problems/logistic.js'

/** Options of {@link logisticTruth}. */
export interface TruthOptions {
  /** Newton stops when ‖∇ℓ(w)‖ ≤ tol·‖∇ℓ(0)‖ (default 1e-12). */
  readonly tol?: number
  /** At most this many Newton steps (default 50). */
  readonly maxNewton?: number
  /** Required relative residual of every linear solve (default 1e-10). */
  readonly residualTol?: number
  /** Newton's start (default 0); a nearby solution (another λ) saves steps. */
  readonly w0?: RVec
}

/** The ground truth at one λ, with the diagnostics that certify it. */
export interface LogisticTruth {
  readonly regularization: Regularization
  readonly lambda: Vec
  /** w(λ), the minimizer of ℓ(·, λ). */
  readonly w: Vec
  /** v = H(w)⁻¹∇₁E(w). AID's and SID's v (the solution of SID eq. 5 for Φ = w − α∇ℓ) is v/α. */
  readonly v: Vec
  /** f(λ) = E(w(λ)). */
  readonly value: number
  /** ∇f(λ) (length 1 for scalar λ, p per feature). */
  readonly gradient: Vec
  /** Newton steps taken. */
  readonly newtonSteps: number
  /** Hessians assembled and factored. */
  readonly factorizations: number
  /** ‖∇ℓ(w)‖ at the returned w. */
  readonly gradNorm: number
  /** ‖∇ℓ(w)‖/‖∇ℓ(0)‖: Newton's stopping quantity. */
  readonly relGradNorm: number
  /** ‖w − w(λ)‖ ≤ ‖∇ℓ(w)‖/τ (strong convexity, τ = min λ): a certified radius. */
  readonly radius: number
  /** The largest relative residual ‖H(w)δ − ∇ℓ(w)‖/‖∇ℓ(w)‖ of the Newton steps (0 when no step was taken). */
  readonly newtonResidual: number
  /** ‖H(w) v − ∇₁E(w)‖/‖∇₁E(w)‖ at the returned w, with the exact Hessian-vector product. */
  readonly linearResidual: number
  /** True when relGradNorm ≤ tol and both residuals are ≤ residualTol. */
  readonly converged: boolean
  /** Why not converged, when it is not. */
  readonly reason?: string
  /** Wall-clock seconds spent. */
  readonly seconds: number
}

const config = (message: string): E.Either<HypergradError, never> => E.left(hgError('config', `logisticTruth: ${message}`))

/**
 * The ground truth w(λ), f(λ), ∇f(λ) of L2-regularized logistic regression (SID §6; ∇f by SID
 * eq. 4–5, see the module comment), by Newton's method with the dense Hessian and Cholesky
 * solves. Validates the data (shapes, finiteness, at least one training row), λ (length 1 or p,
 * finite, > 0), the options and w₀; returns a Left (kind 'divergence') when an iterate or the
 * result is not finite or a Hessian is not numerically positive definite. A run that stops short
 * of the tolerances (maxNewton, rounding floor, residuals) is returned with `converged: false`
 * and the reason, so that the caller can decide; its diagnostics say how accurate it is.
 */
export const logisticTruth = (
  train: Dataset,
  validation: Dataset,
  lambda: RVec,
  regularization: Regularization,
  opts: TruthOptions = {},
): E.Either<HypergradError, LogisticTruth> => {
  const started = performance.now()
  if (regularization !== 'scalar' && regularization !== 'perFeature')
    return config(`regularization must be 'scalar' or 'perFeature', got ${String(regularization)}`)
  const tol = opts.tol ?? 1e-12
  const maxNewton = opts.maxNewton ?? 50
  const residualTol = opts.residualTol ?? 1e-10
  if (!(Number.isFinite(tol) && tol >= 0)) return config(`tol must be finite and ≥ 0, got ${tol}`)
  if (!(Number.isInteger(maxNewton) && maxNewton >= 0)) return config(`maxNewton must be an integer ≥ 0, got ${maxNewton}`)
  if (!(Number.isFinite(residualTol) && residualTol >= 0)) return config(`residualTol must be finite and ≥ 0, got ${residualTol}`)
  const checked = E.flatMap(validateDataset('logisticTruth: train', train, 1), () =>
    E.flatMap(validateDataset('logisticTruth: validation', validation), () => validateSplit('logisticTruth', train, validation)),
  )
  if (E.isLeft(checked)) return checked
  const lower = logisticObjective(train, regularization)
  const lamE = lower.checkLambda(lambda)
  if (E.isLeft(lamE)) return E.left(hgError(lamE.left.kind, `logisticTruth: ${lamE.left.message}`))
  const lam = Float64Array.from(lamE.right)
  const p = lower.dim
  const n = lower.nSamples
  if (opts.w0 !== undefined && opts.w0.length !== p)
    return E.left(hgError('dimension', `logisticTruth: w0 has length ${opts.w0.length}, expected ${p}`))
  if (opts.w0 !== undefined && !isFiniteVec(opts.w0)) return E.left(hgError('data', 'logisticTruth: w0 has a non-finite entry'))
  const upper = logisticUpper(validation, lower.hyperDim)
  const X = train.X
  const y = train.y
  const tau = lower.curvature(lam).tau
  const diverged = (msg: string): E.Either<HypergradError, never> => E.left(hgError('divergence', `logisticTruth: ${msg}`))

  // The Cholesky factor of the dense Hessian lives in one p × p buffer owned here and reused by
  // every factorization (no garbage of p² arrays between collections). Residuals use the exact
  // Hessian-vector product at the current iterate, so no copy of H is kept.
  const z = new Float64Array(n)
  const dw = new Float64Array(n)
  const fBuf = new Float64Array(p * p)
  const F: Matrix = matrix(p, p, fBuf)
  const idx = new Int32Array(p)
  const val = new Float64Array(p)
  let factorizations = 0
  /** The Cholesky factor of H(w) = Xᵀ diag(yᵢ²ψ''(yᵢxᵢᵀw)) X + diag(λ) into F; false if not SPD. */
  const factorAt = (w: RVec): boolean => {
    gemv(n, p, 1, X.data, p, 0, w, 1, 0, 0, z, 1, 0)
    for (let i = 0; i < n; i++) {
      const yi = y[i]!
      dw[i] = yi * yi * d2psi(yi * z[i]!)
    }
    weightedGramInto(X, dw, fBuf, idx, val)
    for (let j = 0; j < p; j++) fBuf[j * p + j] = fBuf[j * p + j]! + (lam.length === 1 ? lam[0]! : lam[j]!)
    factorizations++
    return choleskyInPlace(fBuf, p)
  }

  const g0 = norm(lower.grad(new Float64Array(p), lam))
  const scale = g0 > 0 ? g0 : 1
  let w: Vec = opts.w0 === undefined ? new Float64Array(p) : Float64Array.from(opts.w0)
  let g = lower.grad(w, lam)
  let gn = norm(g)
  let value = lower.value(w, lam)
  let steps = 0
  let newtonResidual = 0
  let reason: string | undefined
  let factored = false // whether H, F hold a factorization (of the Hessian at some earlier iterate)
  let fresh = false // whether that iterate is the current w
  for (;;) {
    if (!isFiniteVec(w) || !Number.isFinite(gn) || !Number.isFinite(value)) return diverged(`a Newton iterate is not finite after ${steps} steps`)
    if (gn <= tol * scale) break
    if (steps >= maxNewton) {
      reason = `‖∇ℓ‖/‖∇ℓ(0)‖ = ${(gn / scale).toExponential(2)} > tol = ${tol} after ${steps} Newton steps`
      break
    }
    if (!factored) {
      if (!factorAt(w)) return diverged(`the Hessian is not numerically positive definite after ${steps} Newton steps`)
      factored = true
      fresh = true
    }
    // The Newton step H(w)⁻¹∇ℓ(w), by refinement against the exact product at w: with a factor
    // from an earlier iterate as preconditioner, or, when that does not reach residualTol, with a
    // new factor at w.
    const at = Float64Array.from(w)
    const hvpAt = (x: RVec): Vec => lower.hvp(at, lam, x)
    let step = refineSolve(hvpAt, F, g, residualTol, 20)
    if (step.rel > residualTol && !fresh) {
      if (!factorAt(w)) return diverged(`the Hessian is not numerically positive definite after ${steps} Newton steps`)
      fresh = true
      step = refineSolve(hvpAt, F, g, residualTol, 20)
    }
    const { x: delta, rel } = step
    newtonResidual = Math.max(newtonResidual, rel)
    let slope = 0 // ⟨∇ℓ, δ⟩ > 0: −δ is a descent direction
    for (let j = 0; j < p; j++) slope += g[j]! * delta[j]!
    // Backtracking: accept w − sδ on Armijo's condition, or (once ℓ's decrease is below its
    // rounding) when the gradient norm drops.
    let accepted = false
    const gnBefore = gn
    for (let s = 1, h = 0; h < 40; h++, s /= 2) {
      const cand = Float64Array.from(w)
      for (let j = 0; j < p; j++) cand[j] = cand[j]! - s * delta[j]!
      const vc = lower.value(cand, lam)
      const gc = lower.grad(cand, lam)
      const gcn = norm(gc)
      if (Number.isFinite(vc) && Number.isFinite(gcn) && (vc <= value - 1e-4 * s * slope || gcn < (1 - 1e-4 * s) * gn)) {
        w = cand
        g = gc
        gn = gcn
        value = vc
        accepted = true
        break
      }
    }
    if (!accepted) {
      if (!fresh) {
        factored = false // a stale factor may give a poor direction: rebuild at w and retry
        continue
      }
      reason = `Newton stalled at ‖∇ℓ‖/‖∇ℓ(0)‖ = ${(gn / scale).toExponential(2)} (rounding floor) after ${steps} steps`
      break
    }
    steps++
    // Keep the factor while it cuts the gradient at least tenfold per step.
    fresh = false
    if (!(gn <= 0.1 * gnBefore)) factored = false
  }

  // v = H(w)⁻¹∇₁E(w), refined against the exact Hessian-vector product at the final w.
  const b = upper.gradW(w, lam)
  const hvp = (x: RVec): Vec => lower.hvp(w, lam, x)
  // Refinement costs one pass over the data per step: aim well below residualTol (to the
  // rounding floor), and accept anything within it.
  const aim = Math.min(residualTol, 1e-14)
  const solveV = (): { readonly x: Vec; readonly rel: number } | undefined => {
    if (factored) {
      const attempt = refineSolve(hvp, F, b, aim, 10)
      // A factor from an earlier iterate that does not get there is replaced by one at w.
      if (attempt.rel <= residualTol || fresh) return attempt
    }
    return factorAt(w) ? refineSolve(hvp, F, b, aim, 10) : undefined
  }
  const solved = solveV()
  if (solved === undefined) return diverged('the Hessian at the solution is not numerically positive definite')
  const { x: v, rel: linearResidual } = solved
  const gradient = new Float64Array(lower.hyperDim)
  if (lower.hyperDim === 1) {
    let s = 0
    for (let j = 0; j < p; j++) s += w[j]! * v[j]!
    gradient[0] = -s
  } else {
    for (let j = 0; j < p; j++) gradient[j] = -w[j]! * v[j]!
  }
  const fValue = upper.value(w, lam)
  if (!isFiniteVec(v) || !isFiniteVec(gradient) || !Number.isFinite(fValue)) return diverged('the hypergradient is not finite')
  const relGradNorm = gn / scale
  if (reason === undefined && newtonResidual > residualTol)
    reason = `a Newton solve left a relative residual ${newtonResidual.toExponential(2)} > ${residualTol}`
  if (reason === undefined && linearResidual > residualTol)
    reason = `the solve for v left a relative residual ${linearResidual.toExponential(2)} > ${residualTol}`
  return E.right({
    regularization,
    lambda: lam,
    w,
    v,
    value: fValue,
    gradient,
    newtonSteps: steps,
    factorizations,
    gradNorm: gn,
    relGradNorm,
    radius: gn / tau,
    newtonResidual,
    linearResidual,
    converged: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
    seconds: (performance.now() - started) / 1000,
  })
}
