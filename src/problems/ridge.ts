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
 *
 * X is dense or CSR; the two layouts of the same data give the same bits. With at most
 * {@link RIDGE_GRAM_MAX_FEATURES} features the full-batch products use the Gram matrix XᵀX
 * (p × p, formed once) and the curvature its eigenvalues; with more, the products are
 * matrix-free, Xᵀ(Xw − y), and the curvature comes from σ_max(X)² (τ = min λ, L = σ_max² +
 * max λ): nothing of size p² is formed unless the closed form is asked for.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { DesignDataset as Dataset } from '../data/dataset.js'
import { snapshotDataset } from '../data/snapshot.js'
import { validateDataset, validateSplit } from '../data/validate.js'
import { hgError, type HypergradError } from '../errors.js'
import { designGemv, designGemvT, designRowAxpy, designRowDot, type DesignMatrix } from '../linalg/csr.js'
import { weightedGramOf } from '../linalg/gram.js'
import { axpy, dot, gemv } from '../linalg/kernels.js'
import { cholesky, choleskySolve, symmetricEigenvalues } from '../linalg/matrix.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { ClosedForm } from '../problem/bilevel.js'
import { checkedStep, ErmProblem, ermProblem, type LowerObjective, type UpperObjective } from '../problem/erm.js'
import { squaredSpectralNorm } from '../problem/spectral.js'
import { lambdaRange } from './losses.js'
import { finiteSumShape } from './quadratic.js'

/** How λ regularizes: one weight for all features, or one per feature. */
export type RidgeRegularization = 'scalar' | 'perFeature'

/** Up to this many features, ridge forms the Gram matrix XᵀX once and uses it (see the module comment). */
export const RIDGE_GRAM_MAX_FEATURES = 1024

/** XᵀX (p×p, fresh): the weighted Gram matrix with unit weights. */
const gram = (X: DesignMatrix): Matrix => weightedGramOf(X, new Float64Array(X.rows).fill(1))

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

/** The lower objective together with the Gram matrix XᵀX (when formed) and Xᵀy it precomputes (shared with RidgeProblem). */
const ridgeParts = (
  train0: Dataset, regularization: RidgeRegularization,
): { readonly lower: LowerObjective; readonly G: Matrix | undefined; readonly Xty: Vec; readonly train: Dataset; readonly dataScale: () => number } => {
  const n = train0.X.rows
  const p = train0.X.cols
  if (train0.y.length !== n) throw new RangeError(`ridgeObjective: X is ${n}×${p} but y has length ${train0.y.length}`)
  if (n < 1 || p < 1) throw new RangeError(`ridgeObjective: X is ${n}×${p}; need at least one row and one column`)
  if (regularization !== 'scalar' && regularization !== 'perFeature')
    throw new RangeError(`ridgeObjective: regularization must be 'scalar' or 'perFeature', got ${String(regularization)}`)
  const train = snapshotDataset(train0)
  const { X, y } = train
  const m = regularization === 'perFeature' ? p : 1
  const name = `ridge(${regularization}, n=${n}, p=${p})`
  const G = p <= RIDGE_GRAM_MAX_FEATURES ? gram(X) : undefined
  const Xty = designGemvT(X, y, new Float64Array(p))
  let gramEig: { readonly min: number; readonly max: number } | undefined
  /** λ_min and λ_max of XᵀX (exact from the Gram matrix; 0 and the safe σ_max(X)² without it), computed once. */
  const eig = (): { readonly min: number; readonly max: number } => {
    if (gramEig === undefined) {
      if (G !== undefined) {
        const ev = symmetricEigenvalues(G)
        gramEig = { min: Math.max(0, ev[0]!), max: ev[ev.length - 1]! }
      } else gramEig = { min: 0, max: squaredSpectralNorm(X) }
    }
    return gramEig
  }

  const shape = finiteSumShape(name, p, m, n)
  const { batch: checkBatch } = shape
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
  /** XᵀX u, from the Gram matrix or as Xᵀ(Xu). */
  const gramTimes = (u: RVec): Vec =>
    G !== undefined ? gemv(p, p, 1, G.data, p, 0, u, 1, 0, 0, new Float64Array(p), 1, 0) : designGemvT(X, designGemv(X, u, new Float64Array(n)), new Float64Array(p))

  const lower: LowerObjective = {
    ...shape.sizes,
    separable: true,
    checkLambda: (lambda) => checkRidgeLambda(name, m, lambda),
    value: (w, lambda, batch) => {
      shape.args('value', w, lambda)
      let s = 0
      if (batch === undefined) {
        for (let i = 0; i < n; i++) {
          const r = designRowDot(X, i, w) - y[i]!
          s += r * r
        }
      } else {
        checkBatch('value', batch)
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k]!
          const r = designRowDot(X, i, w) - y[i]!
          s += r * r
        }
        s *= n / batch.length
      }
      return 0.5 * s + regValue(w, lambda)
    },
    grad: (w, lambda, batch) => {
      shape.args('grad', w, lambda)
      let g: Vec
      if (batch === undefined) {
        g = gramTimes(w)
        axpy(p, -1, Xty, 1, 0, g, 1, 0)
      } else {
        checkBatch('grad', batch)
        g = new Float64Array(p)
        const scale = n / batch.length
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k]!
          const r = designRowDot(X, i, w) - y[i]!
          designRowAxpy(X, i, scale * r, g)
        }
      }
      return addReg(lambda, w, g)
    },
    hvp: (w, lambda, u, batch) => {
      shape.args('hvp', w, lambda)
      assertDim(`${name}.hvp: u`, p, u.length)
      let h: Vec
      if (batch === undefined) h = gramTimes(u)
      else {
        checkBatch('hvp', batch)
        h = new Float64Array(p)
        const scale = n / batch.length
        for (let k = 0; k < batch.length; k++) {
          const i = batch[k]!
          designRowAxpy(X, i, scale * designRowDot(X, i, u), h)
        }
      }
      return addReg(lambda, u, h)
    },
    // ∂/∂λⱼ ∇_w ℓ = wⱼ eⱼ (perFeature) or w (scalar), whatever the batch.
    crossJvp: (w, _lambda, mu, batch) => {
      shape.w('crossJvp', w)
      assertDim(`${name}.crossJvp: μ`, m, mu.length)
      if (batch !== undefined) checkBatch('crossJvp', batch)
      if (regularization === 'scalar') return Float64Array.from(w, (x) => mu[0]! * x)
      return Float64Array.from(w, (x, j) => x * mu[j]!)
    },
    crossVjp: (w, _lambda, v, batch) => {
      shape.w('crossVjp', w)
      assertDim(`${name}.crossVjp: v`, p, v.length)
      if (batch !== undefined) checkBatch('crossVjp', batch)
      if (regularization === 'scalar') return Float64Array.of(dot(p, w, 1, 0, v, 1, 0))
      return Float64Array.from(w, (x, j) => x * v[j]!)
    },
    curvature: (lambda) => {
      shape.lambda('curvature', lambda)
      const e = eig()
      const { lo, hi } = lambdaRange(lambda)
      return { tau: e.min + lo, L: e.max + hi }
    },
  }
  return { lower, G, Xty, train, dataScale: () => eig().max }
}

/** E(w) = ½‖X_val w − y_val‖² (no direct dependence on λ). */
const validationLoss = (validation: Dataset, m: number): UpperObjective => {
  const { X, y } = snapshotDataset(validation)
  const residual = (w: RVec): Vec => {
    assertDim('ridge upper: w against X_val.cols', X.cols, w.length)
    const r = designGemv(X, w, new Float64Array(X.rows))
    return axpy(X.rows, -1, y, 1, 0, r, 1, 0)
  }
  return {
    value: (w) => {
      const r = residual(w)
      return 0.5 * dot(r.length, r, 1, 0, r, 1, 0)
    },
    gradW: (w) => designGemvT(X, residual(w), new Float64Array(X.cols)),
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
    /** XᵀX (undefined when not formed: more than RIDGE_GRAM_MAX_FEATURES features) and Xᵀy of the training set. */
    private gram: Matrix | undefined,
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
    // The closed form needs XᵀX: formed here, once, when the problem has too many features to keep it.
    if (this.gram === undefined) this.gram = gram(this.train.X)
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

/** The training or validation set: at least one row and one column, finite, shapes agreeing. */
const checkDataset = (what: string, ds: Dataset): E.Either<HypergradError, Dataset> =>
  ds.X.cols < 1
    ? E.left(hgError('data', `ridgeProblem: ${what} X is ${ds.X.rows}×${ds.X.cols}; need at least one row and one column`))
    : validateDataset(`ridgeProblem: ${what}`, ds, 1)

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
  const tr = snapshotDataset(train)
  const va = snapshotDataset(validation)
  const valid = pipe(
    checkDataset('training', tr),
    E.chain(() => checkDataset('validation', va)),
    E.chain(() => validateSplit('ridgeProblem', tr, va)),
  )
  if (E.isLeft(valid)) return valid
  const { lower, G, Xty, dataScale } = ridgeParts(tr, reg)
  const checked = lower.checkLambda(lambda)
  if (E.isLeft(checked)) return checked
  const alpha = opts.alpha !== undefined ? E.right(opts.alpha) : checkedStep('ridgeProblem', lower.curvature(lambda), { lambda, dataScale: dataScale(), factor: 1 })
  if (E.isLeft(alpha)) return alpha
  const upper = validationLoss(va, lower.hyperDim)
  return E.map(() => new RidgeProblem(lower, upper, alpha.right, lower.name, tr, va, reg, G, Xty))(
    ermProblem(lower, upper, { alpha: alpha.right, name: lower.name }),
  )
}

