/**
 * Data hyper-cleaning (Ehrhardt & Roberts §4.2; the SID paper's problem (3) with per-sample
 * weights): one hyperparameter λᵢ per training sample, which weighs that sample's loss by
 * σ(λᵢ) (the logistic sigmoid), so that the upper level can learn to switch corrupted samples off:
 *
 *   ℓ(w, λ) = Σᵢ σ(λᵢ) ψ(yᵢxᵢᵀw) + (ρ/2)‖w‖²,     E(w) = Σ_val ψ(yᵢxᵢᵀw),
 *
 * with ψ the logistic loss and a fixed ρ > 0 (default 1). hyperDim = n_train, and λ ranges over
 * all of R^n (σ maps it into (0, 1)).
 *
 * Derivatives (zᵢ = xᵢᵀw):
 *   ∇_w ℓ        = Σ σ(λᵢ) ψ'(yᵢzᵢ) yᵢ xᵢ + ρ w
 *   ∇²_ww ℓ u    = Σ σ(λᵢ) ψ''(yᵢzᵢ) yᵢ² (xᵢᵀu) xᵢ + ρ u
 *   ∂_{λᵢ}∇_w ℓ  = σ'(λᵢ) ψ'(yᵢzᵢ) yᵢ xᵢ,  so  ∇²_wλ ℓ μ = Σ μᵢ σ'(λᵢ) ψ'(yᵢzᵢ) yᵢ xᵢ  and
 *   ((∇²_wλ ℓ)ᵀ v)ᵢ = σ'(λᵢ) ψ'(yᵢzᵢ) yᵢ (xᵢᵀv).
 *
 * A minibatch B gives ℓ̂(w, λ, B) = (n/|B|) Σ_{i∈B} σ(λᵢ)ψ(yᵢxᵢᵀw) + (ρ/2)‖w‖². The cross term
 * depends on the sample, so the map does not separate as SID eq. (15): m₂ ≠ 0 (`separable: false`),
 * and the minibatch (∇²_wλ ℓ̂)ᵀ v is non-zero only on the entries of B (scaled by n/|B|).
 *
 * The hot products run on the fused row passes of `logisticRows.ts`, on dense or CSR data.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { DesignDataset as Dataset } from '../data/dataset.js'
import { hgError, type HypergradError } from '../errors.js'
import { assertDim, type RVec, type Vec } from '../linalg/types.js'
import type { Batch } from '../problem/bilevel.js'
import { checkedStep, ermProblem, type ErmProblem } from '../problem/erm.js'
import { squaredSpectralNorm } from '../problem/spectral.js'
import { LogisticRowsObjective, logisticUpper, maxLabelSq, validateBinarySplit } from './logistic.js'
import { batchScale, logisticCrossVjpPass, logisticGradPass, RowWeight } from './logisticRows.js'
import { fixedRidge, type DiagonalRegularizer } from './rowObjective.js'

export { rowCrossVjpPass } from './logisticRows.js'

/** Options of the data-cleaning objective. */
export interface DataCleaningOptions {
  /** The fixed ridge weight ρ > 0 of (ρ/2)‖w‖² (default 1). */
  readonly rho?: number
}

/** The data-cleaning lower objective (see the module comment). Built by `dataCleaningObjective`. */
export class DataCleaningObjective extends LogisticRowsObjective {
  readonly name = 'dataCleaning'
  readonly hyperDim: number
  readonly separable = false
  readonly rho: number
  protected readonly weighting = RowWeight.sigmoid
  protected readonly reg: DiagonalRegularizer

  constructor(train: Dataset, opts: DataCleaningOptions = {}) {
    super('dataCleaningObjective: train', train)
    const rho = opts.rho ?? 1
    if (!(Number.isFinite(rho) && rho > 0)) throw new RangeError(`dataCleaningObjective: ρ must be finite and > 0, got ${rho}`)
    this.rho = rho
    this.hyperDim = train.X.rows
    this.reg = fixedRidge(rho, this.dim)
  }

  /** λ must have one finite entry per training sample (any sign: σ(λᵢ) ∈ (0, 1)). */
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    if (lambda.length !== this.hyperDim)
      return E.left(hgError('dimension', `${this.name}: λ must have length ${this.hyperDim} (one per training sample), got ${lambda.length}`))
    for (let k = 0; k < lambda.length; k++) {
      const l = lambda[k]!
      if (!Number.isFinite(l)) return E.left(hgError('domain', `${this.name}: λ[${k}] = ${l} must be finite`))
    }
    return E.right(Float64Array.from(lambda))
  }

  /** ∇²_wλ ℓ μ = Σᵢ μᵢ σ'(λᵢ) ψ'(yᵢxᵢᵀw) yᵢ xᵢ (over the batch, scaled n/|B|), one pass over the rows. */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec {
    this.checkArgs('crossJvp', w, lambda)
    assertDim(`${this.name}.crossJvp: μ`, this.hyperDim, mu.length)
    const scale = batchScale(`${this.name}.crossJvp`, this.nSamples, batch)
    return logisticGradPass(this.train.X, this.y, w, batch, scale, RowWeight.sigmoidSlope, lambda, mu, new Float64Array(this.dim))
  }

  /**
   * ((∇²_wλ ℓ)ᵀ v)ᵢ = σ'(λᵢ) ψ'(yᵢxᵢᵀw) yᵢ xᵢᵀv; on a batch, (n/|B|) times that on the batch
   * entries (accumulated over repeats) and 0 elsewhere.
   */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec {
    this.checkArgs('crossVjp', w, lambda)
    assertDim(`${this.name}.crossVjp: v`, this.dim, v.length)
    const scale = batchScale(`${this.name}.crossVjp`, this.nSamples, batch)
    return logisticCrossVjpPass(this.train.X, this.y, w, v, lambda, batch, scale, new Float64Array(this.hyperDim))
  }

  /**
   * τ = ρ and L = ρ + max yᵢ² · σ_max(X_tr)²/4 for every λ (σ ≤ 1, ψ'' ≤ 1/4; the label factor
   * is 1 for ±1 labels). σ_max² is the cached safe upper bound of `squaredSpectralNorm`.
   */
  curvature(lambda: RVec): { readonly tau: number; readonly L: number } {
    assertDim(`${this.name}.curvature: λ`, this.hyperDim, lambda.length)
    return { tau: this.rho, L: this.rho + (this.yMaxSq * squaredSpectralNorm(this.train.X)) / 4 }
  }
}

/**
 * The data-cleaning lower objective ℓ(w, λ) = Σᵢ σ(λᵢ)ψ(yᵢxᵢᵀw) + (ρ/2)‖w‖² (Ehrhardt & Roberts
 * §4.2, binary logistic version), ρ default 1. Throws a RangeError on a shape mismatch or ρ ≤ 0.
 */
export const dataCleaningObjective = (train: Dataset, opts?: { rho?: number }): DataCleaningObjective =>
  new DataCleaningObjective(train, opts)

/**
 * The bilevel data-cleaning problem: Φ(w, λ) = w − α∇₁ℓ(w, λ) with the lower objective of
 * `dataCleaningObjective` and the validation loss E(w) = Σ_val ψ(yᵢxᵢᵀw). Validates the data,
 * ρ, λ (length n_train, finite) and α; α defaults to 2/(L+τ) (SID §6 footnote 3).
 */
export const dataCleaningProblem = (
  train: Dataset, validation: Dataset, lambda: RVec, opts?: { rho?: number; alpha?: number },
): E.Either<HypergradError, ErmProblem> => {
  const who = 'dataCleaningProblem'
  const rho = opts?.rho ?? 1
  if (!(Number.isFinite(rho) && rho > 0)) return E.left(hgError('domain', `${who}: ρ must be finite and > 0, got ${rho}`))
  const data = validateBinarySplit(who, train, validation)
  if (E.isLeft(data)) return data
  const lower = dataCleaningObjective(data.right.train, { rho })
  const lam = lower.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  const upper = logisticUpper(data.right.validation, lower.hyperDim)
  const c = lower.curvature(lam.right)
  const alpha = opts?.alpha !== undefined ? E.right(opts.alpha) : checkedStep(who, c, { lambda: Float64Array.of(rho), dataScale: squaredSpectralNorm(lower.train.X), factor: maxLabelSq(lower.train.y) / 4 })
  if (E.isLeft(alpha)) return alpha
  return ermProblem(lower, upper, { alpha: alpha.right, name: lower.name })
}
