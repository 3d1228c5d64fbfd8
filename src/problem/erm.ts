/**
 * The empirical-risk special case (SID eq. 3): w(λ) = argmin_w ℓ(w, λ) with ℓ(·, λ)
 * τ-strongly convex and L-smooth, and the fixed-point map Φ(w, λ) = w − α∇₁ℓ(w, λ).
 * A stochastic ℓ̂(w, λ, B) on a minibatch B gives Φ̂ = w − α∇₁ℓ̂.
 *
 * The step α is fixed when the problem is built (pick it with `optimalStep`, α = 2/(L+τ), the
 * step of SID §6 footnote 3); ∇f(λ) does not depend on α, since ∇₁ℓ = 0 at w(λ).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, scal } from '../linalg/kernels.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch, StochasticBilevelProblem } from './bilevel.js'

/** The lower-level objective ℓ(w, λ) (a finite sum over nSamples, plus a regularizer). */
export interface LowerObjective {
  readonly name: string
  readonly dim: number
  readonly hyperDim: number
  readonly nSamples: number
  /** True when ∇²_{wλ} ℓ̂ does not depend on the batch (regularization hyperparameters, eq. 15). */
  readonly separable: boolean
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec>
  /** ℓ(w, λ) on the full sum, or the unbiased estimate ℓ̂(w, λ, B) on a batch. */
  value(w: RVec, lambda: RVec, batch?: Batch): number
  grad(w: RVec, lambda: RVec, batch?: Batch): Vec
  /** ∇²_{ww} ℓ u. */
  hvp(w: RVec, lambda: RVec, u: RVec, batch?: Batch): Vec
  /** ∇²_{wλ} ℓ μ (m → d): the derivative of ∇₁ℓ along λ. */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec
  /** (∇²_{wλ} ℓ)ᵀ v (d → m). */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec
  /**
   * Bounds on the curvature of ℓ(·, λ) over all w: strong convexity τ > 0 and smoothness L
   * (exact where a closed form exists, safe over/under-estimates otherwise).
   */
  curvature(lambda: RVec): { readonly tau: number; readonly L: number }
  /**
   * Optional: the dense Hessian ∇²_ww ℓ(w, λ) (d × d, symmetric), for direct solvers. An
   * objective offers it when it can build it much faster than d Hessian-vector products
   * (a generalized linear model: Xᵀ diag(D) X by `weightedGram`).
   */
  hessian?(w: RVec, lambda: RVec): Matrix
}

/** The upper-level objective E(w, λ). */
export interface UpperObjective {
  value(w: RVec, lambda: RVec): number
  gradW(w: RVec, lambda: RVec): Vec
  gradLambda(w: RVec, lambda: RVec): Vec
}

/** The upper-level part of a bilevel problem (E, ∇_w E, ∇_λ E), answered by its UpperObjective. */
export abstract class UpperDelegate {
  constructor(readonly upperObjective: UpperObjective) {}
  upper(w: RVec, lambda: RVec): number {
    return this.upperObjective.value(w, lambda)
  }
  gradUpperW(w: RVec, lambda: RVec): Vec {
    return this.upperObjective.gradW(w, lambda)
  }
  gradUpperLambda(w: RVec, lambda: RVec): Vec {
    return this.upperObjective.gradLambda(w, lambda)
  }
}

/** α = 2/(L+τ): the step that makes w − α∇ℓ contract fastest, with q = (L−τ)/(L+τ). */
export const optimalStep = (c: { readonly tau: number; readonly L: number }): number => 2 / (c.L + c.tau)

/** What the curvature bounds of an objective are made of, to name the cause of a step size that overflows. */
export interface StepCauses {
  /** The hyperparameter λ (its largest entry enters L). */
  readonly lambda: RVec
  /** The data scale σ_max(X)² of the training matrix. */
  readonly dataScale: number
  /** The factor of the data scale in L (ψ'' ≤ 1/4 for logistic, 1/2 for softmax, 1 for ridge). */
  readonly factor: number
}

/**
 * The step α = 2/(L+τ) of {@link optimalStep}, checked: a 'domain' error when it is not a
 * positive finite number (L + τ overflowed), naming what made L or τ overflow — the data scale
 * σ_max(X)² or λ — with both values, e.g. `logisticProblem: the step 2/(L + τ) is 0 because λ
 * reaches 1e+308 (data scale σ_max(X)² = 12.5): lower λ`.
 */
export const checkedStep = (who: string, c: { readonly tau: number; readonly L: number }, causes: StepCauses): E.Either<HypergradError, number> => {
  const alpha = optimalStep(c)
  if (Number.isFinite(alpha) && alpha > 0) return E.right(alpha)
  let lamMax = -Infinity
  for (let k = 0; k < causes.lambda.length; k++) lamMax = Math.max(lamMax, Math.abs(causes.lambda[k]!))
  const scale = causes.dataScale
  const both = `(data scale σ_max(X)² = ${scale}, largest λ = ${lamMax})`
  const dataPart = causes.factor * scale
  const why = !Number.isFinite(dataPart) || dataPart >= lamMax
    ? `the data scale σ_max(X)² = ${scale} is too large (largest λ = ${lamMax}): rescale the data`
    : `λ reaches ${lamMax} ${both}: lower λ`
  return E.left(hgError('domain', `${who}: the step 2/(L + τ) is ${alpha} because ${why}`))
}

/** q = max(|1 − ατ|, |1 − αL|): the contraction constant of w − α∇ℓ. */
export const gdContraction = (alpha: number, c: { readonly tau: number; readonly L: number }): number =>
  Math.max(Math.abs(1 - alpha * c.tau), Math.abs(1 - alpha * c.L))

export interface ErmOptions {
  /** The step α in Φ = w − α∇ℓ. */
  readonly alpha: number
  readonly name?: string
}

/** Build Φ = w − α∇₁ℓ and its stochastic version from a lower objective and an upper one. */
export const ermProblem = (lower: LowerObjective, upper: UpperObjective, opts: ErmOptions): E.Either<HypergradError, ErmProblem> => {
  if (!(Number.isFinite(opts.alpha) && opts.alpha > 0))
    return E.left(hgError('domain', `ermProblem: step α must be positive and finite, got ${opts.alpha}`))
  return E.right(new ErmProblem(lower, upper, opts.alpha, opts.name ?? lower.name))
}

/** w − α g, fresh. */
const gdStep = (w: RVec, alpha: number, g: Vec): Vec => {
  // g ← w − α g, reusing g's storage (g is ours: freshly allocated by the objective).
  scal(g.length, -alpha, g, 1, 0)
  return axpy(w.length, 1, w, 1, 0, g, 1, 0)
}
/** u − α h, fresh. */
const idMinus = gdStep

/**
 * A problem that can build the dense matrix I − ∂₁Φ(w, λ) of its linear system (SID eq. 6) in
 * one go, faster than d Jacobian-vector products; `exact` uses it when present.
 */
export interface DenseSystemMatrix {
  /** I − ∂₁Φ(w, λ) as a dense d × d matrix, or undefined when this problem cannot build it. */
  denseSystemMatrix(w: RVec, lambda: RVec): Matrix | undefined
}

export class ErmProblem extends UpperDelegate implements StochasticBilevelProblem, DenseSystemMatrix {
  readonly dim: number
  readonly hyperDim: number
  readonly nSamples: number
  readonly separable: boolean
  readonly symmetric = true
  constructor(
    readonly lower: LowerObjective,
    upperObjective: UpperObjective,
    readonly alpha: number,
    readonly name: string,
  ) {
    super(upperObjective)
    this.dim = lower.dim
    this.hyperDim = lower.hyperDim
    this.nSamples = lower.nSamples
    this.separable = lower.separable
  }
  checkLambda(lambda: RVec) {
    return this.lower.checkLambda(lambda)
  }
  contraction(lambda: RVec): number {
    return gdContraction(this.alpha, this.lower.curvature(lambda))
  }
  phi(w: RVec, lambda: RVec): Vec {
    assertDim(`${this.name}.phi: w`, this.dim, w.length)
    return gdStep(w, this.alpha, this.lower.grad(w, lambda))
  }
  jvpW(w: RVec, lambda: RVec, u: RVec): Vec {
    return idMinus(u, this.alpha, this.lower.hvp(w, lambda, u))
  }
  vjpW(w: RVec, lambda: RVec, v: RVec): Vec {
    return idMinus(v, this.alpha, this.lower.hvp(w, lambda, v))
  }
  jvpLambda(w: RVec, lambda: RVec, mu: RVec): Vec {
    return scal(this.dim, -this.alpha, this.lower.crossJvp(w, lambda, mu), 1, 0)
  }
  vjpLambda(w: RVec, lambda: RVec, v: RVec): Vec {
    return scal(this.hyperDim, -this.alpha, this.lower.crossVjp(w, lambda, v), 1, 0)
  }
  phiHat(w: RVec, lambda: RVec, batch: Batch): Vec {
    return gdStep(w, this.alpha, this.lower.grad(w, lambda, batch))
  }
  jvpWHat(w: RVec, lambda: RVec, batch: Batch, u: RVec): Vec {
    return idMinus(u, this.alpha, this.lower.hvp(w, lambda, u, batch))
  }
  vjpWHat(w: RVec, lambda: RVec, batch: Batch, v: RVec): Vec {
    return idMinus(v, this.alpha, this.lower.hvp(w, lambda, v, batch))
  }
  vjpLambdaHat(w: RVec, lambda: RVec, batch: Batch, v: RVec): Vec {
    return scal(this.hyperDim, -this.alpha, this.lower.crossVjp(w, lambda, v, batch), 1, 0)
  }
  /**
   * I − ∂₁Φ(w, λ) = α∇²_ww ℓ(w, λ) from the lower objective's dense Hessian (undefined when it
   * offers none). Fresh; symmetric.
   */
  denseSystemMatrix(w: RVec, lambda: RVec): Matrix | undefined {
    if (this.lower.hessian === undefined) return undefined
    assertDim(`${this.name}.denseSystemMatrix: w`, this.dim, w.length)
    const h = this.lower.hessian(w, lambda)
    if (h.rows !== this.dim || h.cols !== this.dim)
      throw new RangeError(`${this.name}.denseSystemMatrix: the Hessian is ${h.rows}×${h.cols}, expected ${this.dim}×${this.dim}`)
    const a = this.alpha
    const j = new Float64Array(h.data.length)
    for (let k = 0; k < j.length; k++) j[k] = a * h.data[k]!
    return matrix(this.dim, this.dim, j)
  }
}
