/**
 * Softmax (multinomial logistic) regression, W ∈ R^{d×C} for C classes, and data hyper-cleaning
 * with the same model (Ehrhardt & Roberts §4.2; Grazzi et al. 2020 tune one λ per feature of this
 * model on 20 Newsgroups):
 *
 *   ℓ(W, λ) = Σ_{i∈train} CE(Wᵀxᵢ, yᵢ) + R(W, λ),    E(W) = Σ_{i∈val} CE(Wᵀxᵢ, yᵢ),
 *   CE(z, y) = logsumexp(z) − z_y,
 *   R = ½ λ ‖W‖²  ('scalar'),  ½ Σⱼ λⱼ ‖W_{j,:}‖²  ('perFeature': one λ per feature, shared by
 *   the classes),  ½ Σ_c λ_c ‖W_{:,c}‖²  ('perClass').
 *
 * W is stored row-major as a vector of length d·C (W[j, c] at j·C + c), labels are the class
 * indices 0…C−1 (`Dataset.nClasses` = C). With zᵢ = Wᵀxᵢ and pᵢ = softmax(zᵢ):
 *   ∇_W ℓ       = Σ xᵢ (pᵢ − e_{yᵢ})ᵀ + Λ ⊙ W
 *   ∇²_WW ℓ U   = Σ xᵢ (pᵢ ⊙ sᵢ − pᵢ (pᵢᵀsᵢ))ᵀ + Λ ⊙ U,   sᵢ = Uᵀxᵢ
 *   ∇²_Wλ ℓ μ   = μ W, (μⱼ W_{j,:})ⱼ or (μ_c W_{:,c})_c;  its transpose V ↦ ⟨W, V⟩, the row-wise or
 *                 the column-wise inner products of W and V,
 * where Λ holds the λ of each entry. The Hessian of one sample's cross-entropy is
 * diag(p) − ppᵀ ⪯ ½I, so ℓ(·, λ) is τ-strongly convex and L-smooth with τ = min λ and
 * L = σ_max(X)²/2 + max λ.
 *
 * Data cleaning weighs sample i by σ(λᵢ) (λ ∈ Rⁿ, any sign) with a fixed ridge ρ:
 *   ℓ(W, λ) = Σ σ(λᵢ) CE(Wᵀxᵢ, yᵢ) + (ρ/2)‖W‖²,  ∂_{λᵢ}∇_W ℓ = σ'(λᵢ) xᵢ (pᵢ − e_{yᵢ})ᵀ,
 * τ = ρ, L = ρ + σ_max(X)²/2; the cross term depends on the sample (not separable, SID eq. 15).
 *
 * Minibatches give the unbiased estimates (n/|B|) Σ_{i∈B} of the data terms. The products are
 * fused row passes (`linalg/rows/multi.ts`: C dots per row, then C axpys) over dense or CSR
 * data, with the same bits on both layouts. The dense Hessian (d·C × d·C) is built only for
 * `exact`, which is practical for small d·C.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { DesignDataset } from '../data/dataset.js'
import { snapshotDataset } from '../data/snapshot.js'
import { validateLabelledSplit } from '../data/validate.js'
import { hgError, type HypergradError } from '../errors.js'
import { isCsr, type DesignMatrix } from '../linalg/csr.js'
import { multiDots, multiPass } from '../linalg/rows/multi.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch } from '../problem/bilevel.js'
import { checkedStep, ermProblem, type ErmProblem, type UpperObjective } from '../problem/erm.js'
import { squaredSpectralNorm } from '../problem/spectral.js'
import { checkDataset } from './logistic.js'
import { batchScale, rowWeight, RowWeight } from './logisticRows.js'
import { fixedRidge, RowObjective, type DiagonalRegularizer } from './rowObjective.js'
import { dsigmoid, lambdaRange, softmaxInto } from './losses.js'

/** How λ regularizes W: one λ, one per feature (row of W), or one per class (column of W). */
export type SoftmaxRegularization = 'scalar' | 'perFeature' | 'perClass'

const EMPTY: RVec = new Float64Array(0)

let probS = new Float64Array(0)
/** Scratch for the class probabilities of one row. */
const probs = (C: number): Vec => {
  if (probS.length < C) probS = new Float64Array(C)
  return probS.subarray(0, C)
}

// ---------------------------------------------------------------------------------------------
// The softmax row passes (sample weights as in logisticRows: 1, σ(λᵢ), or σ'(λᵢ)·μᵢ)

/** out ← Σ scale · weightᵢ · xᵢ (pᵢ − e_{yᵢ})ᵀ over the rows of the pass (p·C entries). */
export const softmaxGradPass = (
  X: DesignMatrix, C: number, y: RVec, W: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => {
  const p = probs(C)
  return multiPass(X, C, W, undefined, batch, (_k, i, z, _s, r) => {
    softmaxInto(z, p)
    const a = scale * rowWeight(weight, lam, mu, i)
    const yi = y[i]!
    for (let c = 0; c < C; c++) r[c] = a * (c === yi ? p[c]! - 1 : p[c]!)
  }, out)
}

/** out ← Σ scale · weightᵢ · xᵢ (pᵢ ⊙ sᵢ − pᵢ(pᵢᵀsᵢ))ᵀ, sᵢ = Uᵀxᵢ, over the rows of the pass. */
export const softmaxHvpPass = (
  X: DesignMatrix, C: number, W: RVec, U: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, out: Vec,
): Vec => {
  const p = probs(C)
  return multiPass(X, C, W, U, batch, (_k, i, z, s, r) => {
    softmaxInto(z, p)
    let t = 0
    for (let c = 0; c < C; c++) t += p[c]! * s[c]!
    const a = scale * rowWeight(weight, lam, EMPTY, i)
    for (let c = 0; c < C; c++) r[c] = a * p[c]! * (s[c]! - t)
  }, out)
}

/** Σ scale · weightᵢ · CE(Wᵀxᵢ, yᵢ) over the rows of the pass (summed in pass order, then scaled). */
export const softmaxValue = (
  X: DesignMatrix, C: number, y: RVec, W: RVec, batch: Batch | undefined, scale: number, weight: RowWeight, lam: RVec,
): number => {
  const p = probs(C)
  let acc = 0
  multiDots(X, C, W, undefined, batch, (_k, i, z) => {
    const lse = softmaxInto(z, p)
    acc += rowWeight(weight, lam, EMPTY, i) * (lse - z[y[i]!]!)
  })
  return scale * acc
}

/**
 * out[i] += scale · σ'(λᵢ) · ⟨pᵢ − e_{yᵢ}, Vᵀxᵢ⟩ for every i of the pass (repeats accumulate):
 * the data-cleaning (∇²_Wλ ℓ)ᵀV. out (length n) must be zeroed by the caller.
 */
export const softmaxCrossVjpPass = (
  X: DesignMatrix, C: number, y: RVec, W: RVec, V: RVec, lam: RVec, batch: Batch | undefined, scale: number, out: Vec,
): Vec => {
  const p = probs(C)
  multiDots(X, C, W, V, batch, (_k, i, z, s) => {
    softmaxInto(z, p)
    let t = 0
    for (let c = 0; c < C; c++) t += p[c]! * s[c]!
    out[i] = out[i]! + scale * dsigmoid(lam[i]!) * (t - s[y[i]!]!)
  })
  return out
}

/**
 * The data part of the dense Hessian, Σᵢ weightᵢ (xᵢxᵢᵀ) ⊗ (diag(pᵢ) − pᵢpᵢᵀ) (d·C × d·C, entry
 * ((j, c), (k, e)) at (j·C + c)·dC + k·C + e), over the non-zero entries of each row. Fresh.
 */
export const softmaxHessianData = (X: DesignMatrix, C: number, W: RVec, weight: 0 | 1, lam: RVec): Matrix => {
  const d = X.cols, m = d * C
  const H = new Float64Array(m * m)
  const p = probs(C)
  const S = new Float64Array(C * C)
  const js: number[] = []
  const xs: number[] = []
  multiDots(X, C, W, undefined, undefined, (_k, i, z) => {
    softmaxInto(z, p)
    const a = rowWeight(weight, lam, EMPTY, i)
    for (let c = 0; c < C; c++) for (let e = 0; e < C; e++) S[c * C + e] = a * ((c === e ? p[c]! : 0) - p[c]! * p[e]!)
    js.length = 0
    xs.length = 0
    if (isCsr(X)) {
      for (let q = X.indptr[i]!; q < X.indptr[i + 1]!; q++) if (X.values[q] !== 0) (js.push(X.indices[q]!), xs.push(X.values[q]!))
    } else for (let j = 0; j < d; j++) if (X.data[i * d + j] !== 0) (js.push(j), xs.push(X.data[i * d + j]!))
    for (let s = 0; s < js.length; s++)
      for (let u = s; u < js.length; u++) {
        const xx = xs[s]! * xs[u]!
        const base = js[s]! * C * m + js[u]! * C
        for (let c = 0; c < C; c++) for (let e = 0; e < C; e++) H[base + c * m + e] = H[base + c * m + e]! + xx * S[c * C + e]!
      }
  })
  // Blocks (j, k) with j < k were filled; mirror them into (k, j).
  for (let r = 0; r < m; r++) for (let q = r + 1; q < m; q++) if (Math.floor(q / C) > Math.floor(r / C)) H[q * m + r] = H[r * m + q]!
  return matrix(m, m, H)
}

// ---------------------------------------------------------------------------------------------
// The objectives

/** The number of classes of a training set: `nClasses` given, else the dataset's. */
const classesOf = (train: DesignDataset, nClasses?: number): number => {
  const C = nClasses ?? train.nClasses
  if (!(Number.isInteger(C) && C! >= 2)) throw new RangeError(`softmax: the number of classes must be an integer ≥ 2, got ${String(C)}`)
  return C!
}

/** Sizes and row passes shared by the softmax objectives. */
abstract class SoftmaxBase extends RowObjective {
  readonly dim: number
  readonly nSamples: number
  /** The number of classes C (W is d × C). */
  readonly nClasses: number
  /** The number of features d. */
  readonly features: number
  /** The training data: the objective's own snapshot of the dataset it was built from. */
  readonly train: DesignDataset

  constructor(train: DesignDataset, nClasses?: number) {
    super()
    checkDataset('softmaxObjective: train', train)
    this.nClasses = classesOf(train, nClasses)
    this.train = snapshotDataset(train)
    this.features = train.X.cols
    this.dim = train.X.cols * this.nClasses
    this.nSamples = train.X.rows
  }

  /** The sample weighting of the data term. */
  protected abstract readonly weighting: 0 | 1

  protected dataValue(w: RVec, lambda: RVec, batch: Batch | undefined, scale: number): number {
    return softmaxValue(this.train.X, this.nClasses, this.train.y, w, batch, scale, this.weighting, lambda)
  }

  protected dataGrad(w: RVec, lambda: RVec, batch: Batch | undefined, scale: number, out: Vec): void {
    softmaxGradPass(this.train.X, this.nClasses, this.train.y, w, batch, scale, this.weighting, lambda, EMPTY, out)
  }

  protected dataHvp(w: RVec, lambda: RVec, u: RVec, batch: Batch | undefined, scale: number, out: Vec): void {
    softmaxHvpPass(this.train.X, this.nClasses, w, u, batch, scale, this.weighting, lambda, out)
  }

  /** For `exact` on small d·C. */
  protected dataHessian(w: RVec, lambda: RVec): Matrix {
    return softmaxHessianData(this.train.X, this.nClasses, w, this.weighting, lambda)
  }
}

/** The regularized softmax-regression lower objective (see the module comment). Built by `softmaxObjective`. */
export class SoftmaxObjective extends SoftmaxBase {
  readonly name: string
  readonly hyperDim: number
  readonly separable = true
  protected readonly weighting = RowWeight.unit

  constructor(train: DesignDataset, readonly regularization: SoftmaxRegularization, nClasses?: number) {
    super(train, nClasses)
    if (regularization !== 'scalar' && regularization !== 'perFeature' && regularization !== 'perClass')
      throw new RangeError(`softmaxObjective: regularization must be 'scalar', 'perFeature' or 'perClass', got ${String(regularization)}`)
    this.name = `softmax(${regularization}, C=${this.nClasses})`
    this.hyperDim = regularization === 'scalar' ? 1 : regularization === 'perFeature' ? this.features : this.nClasses
  }

  /** λ must have length 1, d or C, every entry finite and > 0. */
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    if (lambda.length !== this.hyperDim)
      return E.left(hgError('dimension', `${this.name}: λ must have length ${this.hyperDim}, got ${lambda.length}`))
    for (let k = 0; k < lambda.length; k++) {
      const l = lambda[k]!
      if (!(Number.isFinite(l) && l > 0)) return E.left(hgError('domain', `${this.name}: λ[${k}] = ${l} must be finite and > 0 (strong convexity)`))
    }
    return E.right(Float64Array.from(lambda))
  }

  /** The λ of W's flat entry k = j·C + c. */
  private regAt(lambda: RVec, k: number): number {
    return this.regularization === 'scalar' ? lambda[0]! : this.regularization === 'perFeature' ? lambda[Math.floor(k / this.nClasses)]! : lambda[k % this.nClasses]!
  }

  /** R(W, λ) = ½ Σₖ λ(k) W_k², λ(k) the λ of W's flat entry k. */
  protected readonly reg: DiagonalRegularizer = {
    value: (w, lambda) => {
      let s = 0
      for (let k = 0; k < this.dim; k++) s += this.regAt(lambda, k) * w[k]! * w[k]!
      return 0.5 * s
    },
    addInto: (lambda, x, out) => {
      for (let k = 0; k < this.dim; k++) out[k] = out[k]! + this.regAt(lambda, k) * x[k]!
    },
    at: (lambda, k) => this.regAt(lambda, k),
  }

  /** ∇²_Wλ ℓ μ: μ₀W, (μⱼW_{j,:})ⱼ or (μ_c W_{:,c})_c; the same on every batch (eq. 15). */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec {
    this.checkArgs('crossJvp', w, lambda)
    assertDim(`${this.name}.crossJvp: μ`, this.hyperDim, mu.length)
    batchScale(`${this.name}.crossJvp`, this.nSamples, batch)
    const out = new Float64Array(this.dim)
    for (let k = 0; k < this.dim; k++) out[k] = this.regAt(mu, k) * w[k]!
    return out
  }

  /** (∇²_Wλ ℓ)ᵀ V: [⟨W, V⟩], (⟨W_{j,:}, V_{j,:}⟩)ⱼ or (⟨W_{:,c}, V_{:,c}⟩)_c; the same on every batch. */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec {
    this.checkArgs('crossVjp', w, lambda)
    assertDim(`${this.name}.crossVjp: v`, this.dim, v.length)
    batchScale(`${this.name}.crossVjp`, this.nSamples, batch)
    const out = new Float64Array(this.hyperDim)
    const C = this.nClasses
    for (let k = 0; k < this.dim; k++) {
      const at = this.regularization === 'scalar' ? 0 : this.regularization === 'perFeature' ? Math.floor(k / C) : k % C
      out[at] = out[at]! + w[k]! * v[k]!
    }
    return out
  }

  /** τ = min λ and L = σ_max(X_tr)²/2 + max λ (diag(p) − ppᵀ ⪯ ½I); σ_max² is the cached safe bound. */
  curvature(lambda: RVec): { readonly tau: number; readonly L: number } {
    assertDim(`${this.name}.curvature: λ`, this.hyperDim, lambda.length)
    const { lo, hi } = lambdaRange(lambda)
    return { tau: lo, L: squaredSpectralNorm(this.train.X) / 2 + hi }
  }
}

/** The softmax-regression lower objective ℓ(W, λ) (see the module comment). Throws a RangeError on a shape mismatch. */
export const softmaxObjective = (train: DesignDataset, regularization: SoftmaxRegularization, nClasses?: number): SoftmaxObjective =>
  new SoftmaxObjective(train, regularization, nClasses)

/** The softmax data-cleaning lower objective Σ σ(λᵢ) CEᵢ(W) + (ρ/2)‖W‖² (see the module comment). */
export class SoftmaxCleaningObjective extends SoftmaxBase {
  readonly name: string
  readonly hyperDim: number
  readonly separable = false
  readonly rho: number
  protected readonly weighting = RowWeight.sigmoid
  protected readonly reg: DiagonalRegularizer

  constructor(train: DesignDataset, opts: { readonly rho?: number; readonly nClasses?: number } = {}) {
    super(train, opts.nClasses)
    const rho = opts.rho ?? 1
    if (!(Number.isFinite(rho) && rho > 0)) throw new RangeError(`softmaxCleaningObjective: ρ must be finite and > 0, got ${rho}`)
    this.rho = rho
    this.name = `softmaxCleaning(C=${this.nClasses})`
    this.hyperDim = this.nSamples
    this.reg = fixedRidge(rho, this.dim)
  }

  /** λ must have one finite entry per training sample (any sign: σ(λᵢ) ∈ (0, 1)). */
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    if (lambda.length !== this.hyperDim)
      return E.left(hgError('dimension', `${this.name}: λ must have length ${this.hyperDim} (one per training sample), got ${lambda.length}`))
    for (let k = 0; k < lambda.length; k++)
      if (!Number.isFinite(lambda[k]!)) return E.left(hgError('domain', `${this.name}: λ[${k}] = ${lambda[k]} must be finite`))
    return E.right(Float64Array.from(lambda))
  }

  /** ∇²_Wλ ℓ μ = Σᵢ μᵢ σ'(λᵢ) xᵢ(pᵢ − e_{yᵢ})ᵀ (over the batch, scaled n/|B|), one pass over the rows. */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec {
    this.checkArgs('crossJvp', w, lambda)
    assertDim(`${this.name}.crossJvp: μ`, this.hyperDim, mu.length)
    const scale = batchScale(`${this.name}.crossJvp`, this.nSamples, batch)
    return softmaxGradPass(this.train.X, this.nClasses, this.train.y, w, batch, scale, RowWeight.sigmoidSlope, lambda, mu, new Float64Array(this.dim))
  }

  /** ((∇²_Wλ ℓ)ᵀ V)ᵢ = σ'(λᵢ)⟨pᵢ − e_{yᵢ}, Vᵀxᵢ⟩; on a batch, (n/|B|) times that on its entries and 0 elsewhere. */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec {
    this.checkArgs('crossVjp', w, lambda)
    assertDim(`${this.name}.crossVjp: v`, this.dim, v.length)
    const scale = batchScale(`${this.name}.crossVjp`, this.nSamples, batch)
    return softmaxCrossVjpPass(this.train.X, this.nClasses, this.train.y, w, v, lambda, batch, scale, new Float64Array(this.hyperDim))
  }

  /** τ = ρ and L = ρ + σ_max(X_tr)²/2 for every λ (σ ≤ 1, diag(p) − ppᵀ ⪯ ½I). */
  curvature(lambda: RVec): { readonly tau: number; readonly L: number } {
    assertDim(`${this.name}.curvature: λ`, this.hyperDim, lambda.length)
    return { tau: this.rho, L: this.rho + squaredSpectralNorm(this.train.X) / 2 }
  }
}

/** The softmax data-cleaning objective (see the module comment). Throws a RangeError on a shape mismatch or ρ ≤ 0. */
export const softmaxCleaningObjective = (train: DesignDataset, opts?: { readonly rho?: number; readonly nClasses?: number }): SoftmaxCleaningObjective =>
  new SoftmaxCleaningObjective(train, opts)

/** The validation loss E(W) = Σ_val CE(Wᵀxᵢ, yᵢ) (no direct dependence on λ). */
export class SoftmaxUpper implements UpperObjective {
  readonly dim: number
  /** The validation data: the objective's own snapshot of the dataset it was built from. */
  readonly validation: DesignDataset
  constructor(validation: DesignDataset, readonly nClasses: number, readonly hyperDim: number) {
    checkDataset('softmaxUpper: validation', validation)
    if (!(Number.isInteger(nClasses) && nClasses >= 2)) throw new RangeError(`softmaxUpper: the number of classes must be an integer ≥ 2, got ${nClasses}`)
    this.validation = snapshotDataset(validation)
    this.dim = validation.X.cols * nClasses
  }
  value(w: RVec, lambda: RVec): number {
    assertDim('softmaxUpper.value: w', this.dim, w.length)
    assertDim('softmaxUpper.value: λ', this.hyperDim, lambda.length)
    return softmaxValue(this.validation.X, this.nClasses, this.validation.y, w, undefined, 1, RowWeight.unit, EMPTY)
  }
  /** ∇₁E(W) = Σ_val xᵢ(pᵢ − e_{yᵢ})ᵀ, in one pass over the validation rows. */
  gradW(w: RVec, lambda: RVec): Vec {
    assertDim('softmaxUpper.gradW: w', this.dim, w.length)
    assertDim('softmaxUpper.gradW: λ', this.hyperDim, lambda.length)
    return softmaxGradPass(this.validation.X, this.nClasses, this.validation.y, w, undefined, 1, RowWeight.unit, EMPTY, EMPTY, new Float64Array(this.dim))
  }
  gradLambda(w: RVec, lambda: RVec): Vec {
    assertDim('softmaxUpper.gradLambda: w', this.dim, w.length)
    assertDim('softmaxUpper.gradLambda: λ', this.hyperDim, lambda.length)
    return new Float64Array(this.hyperDim)
  }
}

/** The validation cross-entropy E(W) (see the module comment). */
export const softmaxUpper = (validation: DesignDataset, nClasses: number, hyperDim: number): SoftmaxUpper => new SoftmaxUpper(validation, nClasses, hyperDim)

/**
 * The checks of a multiclass split: C = nClasses (given, else the training set's) is an integer
 * ≥ 2; both sets are finite, non-empty, with the same number of features and labels in 0…C−1
 * (a validation set that declares another number of classes is an error). Returns the snapshots.
 */
export const validateMulticlassSplit = (
  who: string, train: DesignDataset, validation: DesignDataset, nClasses?: number,
): E.Either<HypergradError, { readonly train: DesignDataset; readonly validation: DesignDataset; readonly nClasses: number }> => {
  const C = nClasses ?? train.nClasses
  if (!(Number.isInteger(C) && C! >= 2))
    return E.left(hgError('data', `${who}: the number of classes must be an integer ≥ 2 (train.nClasses or the nClasses option), got ${String(C)}`))
  if (validation.nClasses !== undefined && validation.nClasses !== C)
    return E.left(hgError('data', `${who}: the validation set has ${validation.nClasses} classes, the training set ${C}`))
  return E.map((d: { readonly train: DesignDataset; readonly validation: DesignDataset }) => ({ ...d, nClasses: C! }))(
    validateLabelledSplit(who, train, validation, 'multiclass', C),
  )
}

/** Options of `softmaxProblem`. */
export interface SoftmaxProblemOptions {
  readonly regularization: SoftmaxRegularization
  /** The number of classes C; default the training set's `nClasses`. */
  readonly nClasses?: number
  /** The step α of Φ = w − α∇ℓ; default 2/(L+τ) at the given λ. */
  readonly alpha?: number
}

/**
 * The bilevel softmax-regression problem: Φ(W, λ) = W − α∇₁ℓ(W, λ) with the lower objective of
 * `softmaxObjective` and the validation cross-entropy, on a snapshot of the data (dense or CSR;
 * labels 0…C−1). Validates the data, λ and α; α defaults to 2/(L+τ) at this λ (a Left naming
 * the data scale and λ when it overflows). dim = d·C; hyperDim = 1, d or C.
 */
export const softmaxProblem = (
  train: DesignDataset, validation: DesignDataset, lambda: RVec, opts: SoftmaxProblemOptions,
): E.Either<HypergradError, ErmProblem> => {
  const who = 'softmaxProblem'
  const reg = opts.regularization
  if (reg !== 'scalar' && reg !== 'perFeature' && reg !== 'perClass')
    return E.left(hgError('config', `${who}: regularization must be 'scalar', 'perFeature' or 'perClass', got ${String(reg)}`))
  const data = validateMulticlassSplit(who, train, validation, opts.nClasses)
  if (E.isLeft(data)) return data
  const { nClasses } = data.right
  const lower = softmaxObjective(data.right.train, reg, nClasses)
  const lam = lower.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  const upper = softmaxUpper(data.right.validation, nClasses, lower.hyperDim)
  const alpha = opts.alpha !== undefined
    ? E.right(opts.alpha)
    : checkedStep(who, lower.curvature(lam.right), { lambda: lam.right, dataScale: squaredSpectralNorm(lower.train.X), factor: 0.5 })
  if (E.isLeft(alpha)) return alpha
  return ermProblem(lower, upper, { alpha: alpha.right, name: lower.name })
}

/**
 * Data hyper-cleaning with the softmax model (Ehrhardt & Roberts §4.2): per-sample weights
 * σ(λᵢ), a fixed ridge ρ (default 1), the validation cross-entropy. hyperDim = n_train; λ is
 * any finite vector. α defaults to 2/(L+τ).
 */
export const softmaxCleaningProblem = (
  train: DesignDataset, validation: DesignDataset, lambda: RVec, opts: { readonly rho?: number; readonly nClasses?: number; readonly alpha?: number } = {},
): E.Either<HypergradError, ErmProblem> => {
  const who = 'softmaxCleaningProblem'
  const rho = opts.rho ?? 1
  if (!(Number.isFinite(rho) && rho > 0)) return E.left(hgError('domain', `${who}: ρ must be finite and > 0, got ${rho}`))
  const data = validateMulticlassSplit(who, train, validation, opts.nClasses)
  if (E.isLeft(data)) return data
  const { nClasses } = data.right
  const lower = softmaxCleaningObjective(data.right.train, { rho, nClasses })
  const lam = lower.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  const upper = softmaxUpper(data.right.validation, nClasses, lower.hyperDim)
  const alpha = opts.alpha !== undefined
    ? E.right(opts.alpha)
    : checkedStep(who, lower.curvature(lam.right), { lambda: Float64Array.of(rho), dataScale: squaredSpectralNorm(lower.train.X), factor: 0.5 })
  if (E.isLeft(alpha)) return alpha
  return ermProblem(lower, upper, { alpha: alpha.right, name: lower.name })
}
