/**
 * Ridge regression as a bilevel problem (the closed-form check of implicit differentiation):
 *
 *   lower  ℓ(w, λ) = ½‖X w − y‖² + R(w, λ),  R = ½ Σⱼ λⱼ wⱼ² ('perFeature') or (λ/2)‖w‖² ('scalar'),
 *   upper  E(w)    = ½‖X_val w − y_val‖²,
 *
 * on a training set (X, y) with n rows and p features. The data term is a finite sum over the
 * rows; a minibatch B gives the unbiased estimate (n/|B|) Σ_{i∈B} ½(xᵢᵀw − yᵢ)² + R(w, λ). λ
 * enters only R, so the problem is separable (SID eq. 15, m₂ = 0).
 *
 * Domain: every λⱼ finite and strictly positive. Then ℓ(·, λ) is strongly convex whatever the
 * rank of X (λ = 0 would need X of full column rank, which is not checked).
 *
 * With G = XᵀX and H(λ) = G + diag(λ) (or G + λI):
 *   w(λ) = H(λ)⁻¹ Xᵀy,
 *   ∇f(λ) = −w ⊙ v (perFeature) or −wᵀv (scalar),  v = H(λ)⁻¹ X_valᵀ(X_val w − y_val),
 * which is SID eq. 4–5 with ∂₁Φ = I − αH, ∂₂Φᵀv = −α·(w ⊙ v) (α cancels).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, dot, gemv, gemvT } from '../linalg/kernels.js'
import { cholesky, choleskySolve, symmetricEigenvalues } from '../linalg/matrix.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch, ClosedForm } from '../problem/bilevel.js'
import { ErmProblem, ermProblem, optimalStep, type LowerObjective, type UpperObjective } from '../problem/erm.js'
import type { Dataset } from '../data/dataset.js'

/** How λ regularizes: one weight for all features, or one per feature. */
export type RidgeRegularization = 'scalar' | 'perFeature'

/** XᵀX (p×p), fresh. */
const gram = (X: Matrix): Matrix => {
  const { rows: n, cols: p } = X
  const g = new Float64Array(p * p)
  for (let i = 0; i < n; i++) {
    const o = i * p
    for (let a = 0; a < p; a++) {
      const xa = X.data[o + a]!
      if (xa === 0) continue
      for (let b = a; b < p; b++) g[a * p + b] = g[a * p + b]! + xa * X.data[o + b]!
    }
  }
  for (let a = 0; a < p; a++) for (let b = a + 1; b < p; b++) g[b * p + a] = g[a * p + b]!
  return matrix(p, p, g)
}

/** Check λ: right length, every entry finite and > 0; the message names the entry at fault. */
const checkRidgeLambda = (name: string, m: number, lambda: RVec): E.Either<HypergradError, RVec> => {
  if (lambda.length !== m) return E.left(hgError('dimension', `${name}: λ has length ${lambda.length}, expected ${m}`))
  for (let j = 0; j < m; j++) {
    const v = lambda[j]!
    if (!Number.isFinite(v)) return E.left(hgError('domain', `${name}: λ[${j}] = ${v} is not finite`))
    if (!(v > 0)) return E.left(hgError('domain', `${name}: λ[${j}] = ${v} must be positive`))
  }
  return E.right(lambda)
}

/** λ as a per-feature weight vector of length p. */
const weights = (reg: RidgeRegularization, p: number, lambda: RVec): RVec =>
  reg === 'perFeature' ? lambda : new Float64Array(p).fill(lambda[0]!)

/**
 * The ridge lower objective on a training set (see the module comment). curvature(λ) returns
 * τ = λ_min(XᵀX) + min λ and L = λ_max(XᵀX) + max λ from the dense Gram matrix: exact for the
 * scalar regularizer, and safe (Weyl) bounds for the per-feature one. The Gram eigenvalues are
 * computed on the first call to curvature (a p×p Jacobi eigenproblem) and kept.
 */
export const ridgeObjective = (train: Dataset, regularization: RidgeRegularization): LowerObjective =>
  ridgeParts(train, regularization).lower

/** The lower objective together with the Gram matrix XᵀX and Xᵀy it precomputes (shared with RidgeProblem). */
const ridgeParts = (train: Dataset, regularization: RidgeRegularization): { readonly lower: LowerObjective; readonly G: Matrix; readonly Xty: Vec } => {
  const { X, y } = train
  const n = X.rows
  const p = X.cols
  if (y.length !== n) throw new RangeError(`ridgeObjective: X is ${n}×${p} but y has length ${y.length}`)
  if (n < 1 || p < 1) throw new RangeError(`ridgeObjective: X is ${n}×${p}; need at least one row and one column`)
  if (regularization !== 'scalar' && regularization !== 'perFeature')
    throw new RangeError(`ridgeObjective: regularization must be 'scalar' or 'perFeature', got ${String(regularization)}`)
  const m = regularization === 'perFeature' ? p : 1
  const name = `ridge(${regularization}, n=${n}, p=${p})`
  const G = gram(X)
  const Xty = gemvT(n, p, 1, X.data, p, 0, y, 1, 0, 0, new Float64Array(p), 1, 0)
  let gramEig: { readonly min: number; readonly max: number } | undefined

  const checkW = (what: string, w: RVec): void => assertDim(`${name}.${what}: w`, p, w.length)
  const checkL = (what: string, l: RVec): void => assertDim(`${name}.${what}: λ`, m, l.length)
  const checkBatch = (what: string, batch: Batch): void => {
    if (batch.length === 0) throw new RangeError(`${name}.${what}: empty batch`)
    for (let k = 0; k < batch.length; k++) {
      const i = batch[k]!
      if (!(i >= 0 && i < n)) throw new RangeError(`${name}.${what}: batch index ${i} at position ${k} outside 0..${n - 1}`)
    }
  }
  /** out += λ ⊙ u. */
  const addReg = (lambda: RVec, u: RVec, out: Vec): Vec => {
    if (regularization === 'perFeature') for (let j = 0; j < p; j++) out[j] = out[j]! + lambda[j]! * u[j]!
    else axpy(p, lambda[0]!, u, 1, 0, out, 1, 0)
    return out
  }
  const regValue = (w: RVec, lambda: RVec): number => {
    if (regularization === 'scalar') return 0.5 * lambda[0]! * dot(p, w, 1, 0, w, 1, 0)
    let s = 0
    for (let j = 0; j < p; j++) s += lambda[j]! * w[j]! * w[j]!
    return 0.5 * s
  }

  const lower: LowerObjective = {
    name,
    dim: p,
    hyperDim: m,
    nSamples: n,
    separable: true,
    checkLambda: (lambda) => checkRidgeLambda(name, m, lambda),
    value: (w, lambda, batch) => {
      checkW('value', w)
      checkL('value', lambda)
      let s = 0
      if (batch === undefined) {
        for (let i = 0; i < n; i++) {
          const r = dot(p, X.data, 1, i * p, w, 1, 0) - y[i]!
          s += r * r
        }
      } else {
        checkBatch('value', batch)
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k]!
          const r = dot(p, X.data, 1, i * p, w, 1, 0) - y[i]!
          s += r * r
        }
        s *= n / batch.length
      }
      return 0.5 * s + regValue(w, lambda)
    },
    grad: (w, lambda, batch) => {
      checkW('grad', w)
      checkL('grad', lambda)
      let g: Vec
      if (batch === undefined) {
        g = gemv(p, p, 1, G.data, p, 0, w, 1, 0, 0, new Float64Array(p), 1, 0)
        axpy(p, -1, Xty, 1, 0, g, 1, 0)
      } else {
        checkBatch('grad', batch)
        g = new Float64Array(p)
        const scale = n / batch.length
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k]!
          const r = dot(p, X.data, 1, i * p, w, 1, 0) - y[i]!
          axpy(p, scale * r, X.data, 1, i * p, g, 1, 0)
        }
      }
      return addReg(lambda, w, g)
    },
    hvp: (w, lambda, u, batch) => {
      checkW('hvp', w)
      checkL('hvp', lambda)
      assertDim(`${name}.hvp: u`, p, u.length)
      let h: Vec
      if (batch === undefined) h = gemv(p, p, 1, G.data, p, 0, u, 1, 0, 0, new Float64Array(p), 1, 0)
      else {
        checkBatch('hvp', batch)
        h = new Float64Array(p)
        const scale = n / batch.length
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k]!
          axpy(p, scale * dot(p, X.data, 1, i * p, u, 1, 0), X.data, 1, i * p, h, 1, 0)
        }
      }
      return addReg(lambda, u, h)
    },
    // ∂/∂λⱼ ∇_w ℓ = wⱼ eⱼ (perFeature) or w (scalar), whatever the batch.
    crossJvp: (w, _lambda, mu, batch) => {
      checkW('crossJvp', w)
      assertDim(`${name}.crossJvp: μ`, m, mu.length)
      if (batch !== undefined) checkBatch('crossJvp', batch)
      if (regularization === 'scalar') return Float64Array.from(w, (x) => mu[0]! * x)
      return Float64Array.from(w, (x, j) => x * mu[j]!)
    },
    crossVjp: (w, _lambda, v, batch) => {
      checkW('crossVjp', w)
      assertDim(`${name}.crossVjp: v`, p, v.length)
      if (batch !== undefined) checkBatch('crossVjp', batch)
      if (regularization === 'scalar') return Float64Array.of(dot(p, w, 1, 0, v, 1, 0))
      return Float64Array.from(w, (x, j) => x * v[j]!)
    },
    curvature: (lambda) => {
      checkL('curvature', lambda)
      if (gramEig === undefined) {
        const ev = symmetricEigenvalues(G)
        gramEig = { min: Math.max(0, ev[0]!), max: ev[ev.length - 1]! }
      }
      let lo = Infinity
      let hi = -Infinity
      for (let j = 0; j < m; j++) {
        lo = Math.min(lo, lambda[j]!)
        hi = Math.max(hi, lambda[j]!)
      }
      return { tau: gramEig.min + lo, L: gramEig.max + hi }
    },
  }
  return { lower, G, Xty }
}

/** E(w) = ½‖X_val w − y_val‖² (no direct dependence on λ). */
const validationLoss = (validation: Dataset, m: number): UpperObjective => {
  const { X, y } = validation
  const residual = (w: RVec): Vec => {
    assertDim('ridge upper: w against X_val.cols', X.cols, w.length)
    const r = gemv(X.rows, X.cols, 1, X.data, X.cols, 0, w, 1, 0, 0, new Float64Array(X.rows), 1, 0)
    return axpy(X.rows, -1, y, 1, 0, r, 1, 0)
  }
  return {
    value: (w) => {
      const r = residual(w)
      return 0.5 * dot(r.length, r, 1, 0, r, 1, 0)
    },
    gradW: (w) => gemvT(X.rows, X.cols, 1, X.data, X.cols, 0, residual(w), 1, 0, 0, new Float64Array(X.cols), 1, 0),
    gradLambda: (_w, lambda) => {
      assertDim('ridge upper: λ', m, lambda.length)
      return new Float64Array(m)
    },
  }
}

/** Options of `ridgeProblem`. */
export interface RidgeOptions {
  readonly regularization: RidgeRegularization
  /**
   * The step α of Φ = w − α∇ℓ; default 2/(L+τ) at the λ given to `ridgeProblem`. A given α is
   * only checked to be positive: Φ(·, λ) contracts iff α < 2/L_λ, and contraction(λ) reports q_λ
   * (≥ 1 when α is too large for that λ).
   */
  readonly alpha?: number
}

/** Ridge regression as an ERM bilevel problem with closed-form w(λ) and ∇f(λ). */
export class RidgeProblem extends ErmProblem implements ClosedForm {
  constructor(
    lower: LowerObjective,
    upper: UpperObjective,
    alpha: number,
    name: string,
    readonly train: Dataset,
    readonly validation: Dataset,
    readonly regularization: RidgeRegularization,
    /** XᵀX and Xᵀy of the training set. */
    private readonly gram: Matrix,
    private readonly xty: RVec,
  ) {
    super(lower, upper, alpha, name)
  }

  /**
   * The same problem with the step α of Φ = w − α∇ℓ replaced (an outer loop moves λ and picks
   * α = 2/(L+τ) at each λ): XᵀX and Xᵀy are shared, not recomputed. Left when α is not
   * positive and finite.
   */
  withStep(alpha: number): E.Either<HypergradError, RidgeProblem> {
    return E.map(() => new RidgeProblem(this.lower, this.upperObjective, alpha, this.name, this.train, this.validation, this.regularization, this.gram, this.xty))(
      ermProblem(this.lower, this.upperObjective, { alpha, name: this.name }),
    )
  }

  /** The Cholesky factor of H(λ) = XᵀX + diag(λ); throws a RangeError if H is not positive definite. */
  private factor(lambda: RVec, what: string): Matrix {
    assertDim(`${this.name}.${what}: λ`, this.hyperDim, lambda.length)
    const p = this.dim
    const h = Float64Array.from(this.gram.data)
    const wts = weights(this.regularization, p, lambda)
    for (let j = 0; j < p; j++) h[j * p + j] = h[j * p + j]! + wts[j]!
    const l = cholesky(matrix(p, p, h))
    if (l === undefined) throw new RangeError(`${this.name}.${what}: XᵀX + diag(λ) is not positive definite (check λ with checkLambda)`)
    return l
  }

  /** w(λ) = (XᵀX + diag λ)⁻¹ Xᵀy by Cholesky. */
  solution(lambda: RVec): Vec {
    return choleskySolve(this.factor(lambda, 'solution'), this.xty)
  }

  /** ∇f(λ) = −w ⊙ v (perFeature) or −wᵀv (scalar), v = H(λ)⁻¹ X_valᵀ(X_val w − y_val) (SID eq. 4–5). */
  hypergradient(lambda: RVec): Vec {
    const l = this.factor(lambda, 'hypergradient')
    const w = choleskySolve(l, this.xty)
    const v = choleskySolve(l, this.upperObjective.gradW(w, lambda))
    if (this.regularization === 'scalar') return Float64Array.of(-dot(w.length, w, 1, 0, v, 1, 0))
    return Float64Array.from(w, (x, j) => -x * v[j]!)
  }
}

const checkDataset = (what: string, ds: Dataset): E.Either<HypergradError, Dataset> => {
  const { X, y } = ds
  if (X.rows !== y.length) return E.left(hgError('dimension', `ridgeProblem: ${what} X is ${X.rows}×${X.cols} but y has length ${y.length}`))
  if (X.rows < 1 || X.cols < 1) return E.left(hgError('data', `ridgeProblem: ${what} X is ${X.rows}×${X.cols}; need at least one row and one column`))
  for (let i = 0; i < X.data.length; i++)
    if (!Number.isFinite(X.data[i]!))
      return E.left(hgError('data', `ridgeProblem: ${what} X[${Math.floor(i / X.cols)}, ${i % X.cols}] = ${X.data[i]} is not finite`))
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(y[i]!)) return E.left(hgError('data', `ridgeProblem: ${what} y[${i}] = ${y[i]} is not finite`))
  return E.right(ds)
}

/**
 * Build the ridge bilevel problem on (train, validation). `lambda` fixes the default step
 * α = 2/(L+τ) (SID §6, footnote 3) with τ, L from `curvature(lambda)`; it must be finite and > 0.
 */
export const ridgeProblem = (
  train: Dataset,
  validation: Dataset,
  lambda: RVec,
  opts: RidgeOptions,
): E.Either<HypergradError, RidgeProblem> => {
  const reg = opts.regularization
  if (reg !== 'scalar' && reg !== 'perFeature')
    return E.left(hgError('config', `ridgeProblem: regularization must be 'scalar' or 'perFeature', got ${String(reg)}`))
  for (const [what, ds] of [['training', train], ['validation', validation]] as const) {
    const c = checkDataset(what, ds)
    if (E.isLeft(c)) return c
  }
  if (validation.X.cols !== train.X.cols)
    return E.left(hgError('dimension', `ridgeProblem: training X has ${train.X.cols} columns, validation X has ${validation.X.cols}`))
  const { lower, G, Xty } = ridgeParts(train, reg)
  const checked = lower.checkLambda(lambda)
  if (E.isLeft(checked)) return checked
  const alpha = opts.alpha ?? optimalStep(lower.curvature(lambda))
  const upper = validationLoss(validation, lower.hyperDim)
  return E.map(() => new RidgeProblem(lower, upper, alpha, lower.name, train, validation, reg, G, Xty))(
    ermProblem(lower, upper, { alpha, name: lower.name }),
  )
}
