/**
 * L2-regularized logistic regression, the experiment of the SID paper (§6):
 *
 *   ℓ(w, λ) = Σ_{i∈train} ψ(yᵢ xᵢᵀw) + R(w, λ),    E(w) = Σ_{i∈val} ψ(yᵢ xᵢᵀw),
 *   ψ(u) = log(1 + e^{−u}),
 *   R(w, λ) = (λ/2)‖w‖²  ('scalar', one λ)   or   ½ wᵀdiag(λ)w  ('perFeature', one λ per feature).
 *
 * The losses are sums over the samples, not means. A minibatch B (an index array, possibly with
 * repeats) gives the unbiased estimate ℓ̂(w, λ, B) = (n/|B|) Σ_{i∈B} ψ(yᵢxᵢᵀw) + R(w, λ); the
 * regularizer enters whole, so the map separates as SID eq. (15) and m₂ = 0 (Remark 4.2).
 *
 * Derivatives (u = yᵢzᵢ, zᵢ = xᵢᵀw):
 *   ∇_w ℓ      = Σ ψ'(yᵢzᵢ) yᵢ xᵢ + diag(λ) w
 *   ∇²_ww ℓ u  = Σ ψ''(yᵢzᵢ) yᵢ² (xᵢᵀu) xᵢ + diag(λ) u
 *   ∇²_wλ ℓ μ  = μ w ('scalar')  or  μ ⊙ w ('perFeature');   its transpose v ↦ ⟨w, v⟩ or w ⊙ v.
 *
 * The design matrices are dense or CSR (`Dataset`); the hot products are the fused row passes of
 * `logisticRows.ts` (one pass over the rows per product, on the WebAssembly row engine when it
 * pays), which give the same bits on the two layouts of the same data. Labels are ±1. The
 * problem keeps a snapshot of its data (`data/snapshot.ts`).
 *
 * ψ and its derivatives live in `losses.ts`, the row passes in `logisticRows.ts`, σ_max(X)² in
 * `problem/spectral.ts` and the dataset checks in `data/validate.ts`; this module re-exports
 * them under their former names.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { DesignDataset as Dataset } from '../data/dataset.js'
import { snapshotDataset } from '../data/snapshot.js'
import { validateLabelledSplit } from '../data/validate.js'
import { hgError, type HypergradError } from '../errors.js'
import { isCsr } from '../linalg/csr.js'
import { assertDim, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch } from '../problem/bilevel.js'
import { ermProblem, checkedStep, type ErmProblem, type UpperObjective } from '../problem/erm.js'
import { squaredSpectralNorm } from '../problem/spectral.js'
import { lambdaRange } from './losses.js'
import {
  batchScale, CurvatureMemo, gramOf, logisticCurvatures, logisticGradPass, logisticHvpPass, logisticValue, RowWeight,
} from './logisticRows.js'
import { RowObjective, type DiagonalRegularizer, type FusedObjective } from './rowObjective.js'

export { d2psi, dpsi, dsigmoid, psi, sigmoid } from './losses.js'
export {
  assertNoAlias, batchScale, gramOf, rowCurvatures, rowGradPass, rowGradPassOn, rowGradPassReference, rowHvpPass, rowHvpPassOn,
  rowHvpPassReference, rowValue, RowWeight,
} from './logisticRows.js'
export { SPECTRAL_SAFETY, SPECTRAL_TOL, squaredSpectralNorm } from '../problem/spectral.js'
export { validateDataset, validateSplit } from '../data/validate.js'
export type { FusedObjective } from './rowObjective.js'

const EMPTY: RVec = new Float64Array(0)

// ---------------------------------------------------------------------------------------------
// The objectives

/** The regularizer: one λ for all weights, or one per feature. */
export type Regularization = 'scalar' | 'perFeature'

/** out ← ∇_w ℓ(w, λ) (or ∇_w ℓ̂(w, λ, B) on a batch), in one pass over the rows. */
export const gradInto = (obj: FusedObjective, w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec =>
  obj.gradInto(w, lambda, out, batch)

/** out ← ∇²_ww ℓ(w, λ) u (or its minibatch estimate), in one pass over the rows. */
export const hvpInto = (obj: FusedObjective, w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec =>
  obj.hvpInto(w, lambda, u, out, batch)

/** max yᵢ² over the labels (1 for ±1 labels): the factor that ψ'' ≤ 1/4 picks up in the Hessian. */
export const maxLabelSq = (y: RVec): number => {
  let m = 0
  for (let i = 0; i < y.length; i++) m = Math.max(m, y[i]! * y[i]!)
  return m
}

/** Throws a RangeError when X and y disagree in shape (the objectives' constructors; the problems return a Left). */
export const checkDataset = (what: string, d: Dataset): void => {
  if (!isCsr(d.X)) assertDim(`${what}: X data against ${d.X.rows}×${d.X.cols}`, d.X.rows * d.X.cols, d.X.data.length)
  else assertDim(`${what}: X row pointers against ${d.X.rows} rows`, d.X.rows + 1, d.X.indptr.length)
  assertDim(`${what}: labels y against the ${d.X.rows} rows of X`, d.X.rows, d.y.length)
}

/**
 * The lower objectives whose data term is Σᵢ aᵢ ψ(yᵢxᵢᵀw), aᵢ the row weights of `weighting`
 * (1 for logistic regression, σ(λᵢ) for data cleaning): the row passes of `logisticRows.ts` on
 * the objective's own snapshot of its training set.
 */
export abstract class LogisticRowsObjective extends RowObjective {
  readonly dim: number
  readonly nSamples: number
  /** The training data: the objective's own snapshot of the dataset it was built from. */
  readonly train: Dataset
  protected readonly y: RVec
  /** max yᵢ² (see `maxLabelSq`). */
  protected readonly yMaxSq: number
  protected abstract readonly weighting: 0 | 1
  /** The memo of the full-batch Hessian factors, when the objective keeps one. */
  protected readonly memo: CurvatureMemo | undefined = undefined

  constructor(what: string, train: Dataset) {
    super()
    checkDataset(what, train)
    this.train = snapshotDataset(train)
    this.y = this.train.y
    this.dim = train.X.cols
    this.nSamples = train.X.rows
    this.yMaxSq = maxLabelSq(this.y)
  }

  /** The λ the row weights read: λ itself for σ(λᵢ), none for unit weights. */
  private rowLambda(lambda: RVec): RVec {
    return this.weighting === RowWeight.unit ? EMPTY : lambda
  }

  protected dataValue(w: RVec, lambda: RVec, batch: Batch | undefined, scale: number): number {
    return logisticValue(this.train.X, this.y, w, batch, scale, this.weighting, this.rowLambda(lambda), EMPTY)
  }

  protected dataGrad(w: RVec, lambda: RVec, batch: Batch | undefined, scale: number, out: Vec): void {
    logisticGradPass(this.train.X, this.y, w, batch, scale, this.weighting, this.rowLambda(lambda), EMPTY, out)
  }

  protected dataHvp(w: RVec, lambda: RVec, u: RVec, batch: Batch | undefined, scale: number, out: Vec): void {
    logisticHvpPass(this.train.X, this.y, w, u, batch, scale, this.weighting, this.rowLambda(lambda), EMPTY, out, this.memo)
  }

  /**
   * Xᵀ diag(aᵢ yᵢ² ψ''(yᵢxᵢᵀw)) X by the sparse-aware `weightedGram`: Σᵢ nnzᵢ²/2 multiply-adds
   * (MNIST: 0.06 GFLOP, against 784 Hessian-vector products).
   */
  protected dataHessian(w: RVec, lambda: RVec): Matrix {
    return gramOf(this.train.X, logisticCurvatures(this.train.X, this.y, w, this.weighting, this.rowLambda(lambda)))
  }
}

/** R(w, λ) = ½ Σⱼ λⱼwⱼ² on Rᵈ, λ of length 1 broadcast (logistic regression's regularizer). */
const lambdaRidge = (d: number): DiagonalRegularizer => ({
  value: (w, lambda) => {
    let reg = 0
    if (lambda.length === 1) {
      for (let j = 0; j < d; j++) reg += w[j]! * w[j]!
      reg *= lambda[0]!
    } else {
      for (let j = 0; j < d; j++) reg += lambda[j]! * w[j]! * w[j]!
    }
    return 0.5 * reg
  },
  addInto: (lambda, x, out) => addDiagInto(d, lambda, x, out),
  at: (lambda, j) => (lambda.length === 1 ? lambda[0]! : lambda[j]!),
})

/**
 * The logistic-regression lower objective of SID §6 (see the module comment). Built by
 * `logisticObjective`; exposes the fused kernels as methods.
 */
export class LogisticObjective extends LogisticRowsObjective {
  readonly name: string
  readonly hyperDim: number
  readonly separable = true
  protected readonly weighting = RowWeight.unit
  protected override readonly memo = new CurvatureMemo()
  protected readonly reg: DiagonalRegularizer

  constructor(train: Dataset, readonly regularization: Regularization) {
    super('logisticObjective: train', train)
    if (regularization !== 'scalar' && regularization !== 'perFeature')
      throw new RangeError(`logisticObjective: regularization must be 'scalar' or 'perFeature', got ${String(regularization)}`)
    this.name = `logistic(${regularization})`
    this.hyperDim = regularization === 'scalar' ? 1 : this.dim
    this.reg = lambdaRidge(this.dim)
  }

  /** λ must have length 1 ('scalar') or p ('perFeature'), every entry finite and > 0. */
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    if (lambda.length !== this.hyperDim)
      return E.left(hgError('dimension', `${this.name}: λ must have length ${this.hyperDim}, got ${lambda.length}`))
    for (let k = 0; k < lambda.length; k++) {
      const l = lambda[k]!
      if (!(Number.isFinite(l) && l > 0))
        return E.left(hgError('domain', `${this.name}: λ[${k}] = ${l} must be finite and > 0 (strong convexity)`))
    }
    return E.right(Float64Array.from(lambda))
  }

  /** ∇²_wλ ℓ μ = μ₀ w ('scalar') or μ ⊙ w ('perFeature'); the same on every batch (eq. 15). */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec {
    this.checkArgs('crossJvp', w, lambda)
    assertDim(`${this.name}.crossJvp: μ`, this.hyperDim, mu.length)
    batchScale(`${this.name}.crossJvp`, this.nSamples, batch)
    const out = new Float64Array(this.dim)
    if (this.hyperDim === 1) {
      const m = mu[0]!
      for (let j = 0; j < this.dim; j++) out[j] = m * w[j]!
    } else {
      for (let j = 0; j < this.dim; j++) out[j] = mu[j]! * w[j]!
    }
    return out
  }

  /** (∇²_wλ ℓ)ᵀ v = [⟨w, v⟩] ('scalar') or w ⊙ v ('perFeature'); the same on every batch. */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec {
    this.checkArgs('crossVjp', w, lambda)
    assertDim(`${this.name}.crossVjp: v`, this.dim, v.length)
    batchScale(`${this.name}.crossVjp`, this.nSamples, batch)
    if (this.hyperDim === 1) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0
      const p = this.dim, p4 = p - (p % 4)
      let j = 0
      for (; j < p4; j += 4) {
        a0 += w[j]! * v[j]!
        a1 += w[j + 1]! * v[j + 1]!
        a2 += w[j + 2]! * v[j + 2]!
        a3 += w[j + 3]! * v[j + 3]!
      }
      for (; j < p; j++) a0 += w[j]! * v[j]!
      return Float64Array.of((a0 + a1) + (a2 + a3))
    }
    const out = new Float64Array(this.dim)
    for (let j = 0; j < this.dim; j++) out[j] = w[j]! * v[j]!
    return out
  }

  /**
   * τ = min λ and L = max yᵢ² · σ_max(X_tr)²/4 + max λ (ψ'' ≤ 1/4; the label factor is 1 for
   * ±1 labels). σ_max² is the cached safe upper bound of `squaredSpectralNorm`.
   */
  curvature(lambda: RVec): { readonly tau: number; readonly L: number } {
    assertDim(`${this.name}.curvature: λ`, this.hyperDim, lambda.length)
    const { lo, hi } = lambdaRange(lambda)
    return { tau: lo, L: (this.yMaxSq * squaredSpectralNorm(this.train.X)) / 4 + hi }
  }

  /** The default step 2/(L+τ) at λ, or a Left naming the data scale and λ when it is not a positive number. */
  step(who: string, lambda: RVec): E.Either<HypergradError, number> {
    return checkedStep(who, this.curvature(lambda), { lambda, dataScale: squaredSpectralNorm(this.train.X), factor: this.yMaxSq / 4 })
  }
}

/** out += diag(λ) x (λ of length 1 broadcast). */
const addDiagInto = (p: number, lambda: RVec, x: RVec, out: Vec): void => {
  if (lambda.length === 1) {
    const l = lambda[0]!
    for (let j = 0; j < p; j++) out[j] = out[j]! + l * x[j]!
  } else {
    for (let j = 0; j < p; j++) out[j] = out[j]! + lambda[j]! * x[j]!
  }
}

/**
 * The lower objective ℓ(w, λ) = Σ_train ψ(yᵢxᵢᵀw) + R(w, λ) of SID §6, with R = (λ/2)‖w‖²
 * ('scalar') or ½wᵀdiag(λ)w ('perFeature'). Throws a RangeError when X and y disagree in shape.
 */
export const logisticObjective = (train: Dataset, regularization: Regularization): LogisticObjective =>
  new LogisticObjective(train, regularization)

/**
 * The upper objective E(w) = Σ_val ψ(yᵢxᵢᵀw) of SID §6 (no direct dependence on λ, so
 * ∇₂E = 0 ∈ R^hyperDim).
 */
export class LogisticUpper implements UpperObjective {
  readonly dim: number
  /** The validation data: the objective's own snapshot of the dataset it was built from. */
  readonly validation: Dataset
  constructor(validation: Dataset, readonly hyperDim: number) {
    checkDataset('logisticUpper: validation', validation)
    if (!(Number.isInteger(hyperDim) && hyperDim >= 0)) throw new RangeError(`logisticUpper: hyperDim must be a non-negative integer, got ${hyperDim}`)
    this.validation = snapshotDataset(validation)
    this.dim = validation.X.cols
  }
  value(w: RVec, lambda: RVec): number {
    assertDim('logisticUpper.value: w', this.dim, w.length)
    assertDim('logisticUpper.value: λ', this.hyperDim, lambda.length)
    return logisticValue(this.validation.X, this.validation.y, w, undefined, 1, RowWeight.unit, EMPTY, EMPTY)
  }
  /** ∇₁E(w) = Σ_val ψ'(yᵢxᵢᵀw) yᵢ xᵢ, in one pass over the validation rows. */
  gradW(w: RVec, lambda: RVec): Vec {
    assertDim('logisticUpper.gradW: w', this.dim, w.length)
    assertDim('logisticUpper.gradW: λ', this.hyperDim, lambda.length)
    return logisticGradPass(this.validation.X, this.validation.y, w, undefined, 1, RowWeight.unit, EMPTY, EMPTY, new Float64Array(this.dim))
  }
  gradLambda(w: RVec, lambda: RVec): Vec {
    assertDim('logisticUpper.gradLambda: w', this.dim, w.length)
    assertDim('logisticUpper.gradLambda: λ', this.hyperDim, lambda.length)
    return new Float64Array(this.hyperDim)
  }
}

/** The validation loss E(w) = Σ_val ψ(yᵢxᵢᵀw) (SID §6), for a λ of length hyperDim. */
export const logisticUpper = (validation: Dataset, hyperDim: number): LogisticUpper => new LogisticUpper(validation, hyperDim)

/**
 * The checks every binary problem makes of its data: train has at least one row, validation at
 * least one, both are finite with ±1 labels and the same number of features. Returns the
 * snapshots of both (`data/snapshot.ts`).
 */
export const validateBinarySplit = (
  who: string, train: Dataset, validation: Dataset,
): E.Either<HypergradError, { readonly train: Dataset; readonly validation: Dataset }> => validateLabelledSplit(who, train, validation, 'binary')

/** Options of `logisticProblem`. */
export interface LogisticProblemOptions {
  readonly regularization: Regularization
  /** The step α of Φ = w − α∇ℓ; default 2/(L+τ) at the given λ (SID §6 footnote 3). */
  readonly alpha?: number
}

/**
 * The bilevel logistic-regression problem of SID §6: Φ(w, λ) = w − α∇₁ℓ(w, λ) with the lower
 * objective of `logisticObjective` and the upper objective of `logisticUpper`, on a snapshot of
 * the data. Validates the data (shapes, finiteness, ±1 labels, non-empty training and
 * validation sets), λ (`checkLambda`) and α; α defaults to 2/(L+τ) at this λ, which gives the
 * contraction constant q = (L−τ)/(L+τ) (a Left naming the data scale and λ when it overflows).
 */
export const logisticProblem = (
  train: Dataset, validation: Dataset, lambda: RVec, opts: LogisticProblemOptions,
): E.Either<HypergradError, ErmProblem> => {
  const who = 'logisticProblem'
  if (opts.regularization !== 'scalar' && opts.regularization !== 'perFeature')
    return E.left(hgError('config', `${who}: regularization must be 'scalar' or 'perFeature', got ${String(opts.regularization)}`))
  const data = validateBinarySplit(who, train, validation)
  if (E.isLeft(data)) return data
  const lower = logisticObjective(data.right.train, opts.regularization)
  const lam = lower.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  const upper = logisticUpper(data.right.validation, lower.hyperDim)
  const alpha = opts.alpha !== undefined ? E.right(opts.alpha) : lower.step(who, lam.right)
  if (E.isLeft(alpha)) return alpha
  return ermProblem(lower, upper, { alpha: alpha.right, name: lower.name })
}
