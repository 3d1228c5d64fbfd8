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
 * The hot products run on the fused, allocation-free row kernels of `logistic.ts`.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { Dataset } from '../data/dataset.js'
import { hgError, type HypergradError } from '../errors.js'
import { assertDim, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch } from '../problem/bilevel.js'
import { ermProblem, optimalStep, type ErmProblem } from '../problem/erm.js'
import {
  assertNoAlias, batchScale, dpsi, dsigmoid, gramOf, logisticUpper, maxLabelSq, rowCurvatures, rowGradPass, rowHvpPass, rowValue,
  squaredSpectralNorm, validateDataset, validateSplit, type FusedObjective,
} from './logistic.js'

const EMPTY: RVec = new Float64Array(0)

/**
 * out[i] += scale · σ'(λᵢ) · yᵢ · ψ'(yᵢxᵢᵀw) · xᵢᵀv for every i in the batch (all rows when it is
 * undefined; a repeated index accumulates), in one pass over the rows, four at a time with both
 * dots in the same loop. out (length n) must be zeroed by the caller. Allocates nothing.
 */
export const rowCrossVjpPass = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, v: RVec, lam: RVec,
  batch: Batch | undefined, scale: number, out: Vec,
): Vec => {
  const m = batch === undefined ? n : batch.length
  for (let k = 0; k < m; k += 4) {
    const left = m - k
    const i0 = batch === undefined ? k : batch[k]!
    const i1 = left > 1 ? (batch === undefined ? k + 1 : batch[k + 1]!) : i0
    const i2 = left > 2 ? (batch === undefined ? k + 2 : batch[k + 2]!) : i0
    const i3 = left > 3 ? (batch === undefined ? k + 3 : batch[k + 3]!) : i0
    const o0 = i0 * p, o1 = i1 * p, o2 = i2 * p, o3 = i3 * p
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0
    for (let j = 0; j < p; j++) {
      const wj = w[j]!, vj = v[j]!
      const x0 = X[o0 + j]!, x1 = X[o1 + j]!, x2 = X[o2 + j]!, x3 = X[o3 + j]!
      a0 += x0 * wj
      s0 += x0 * vj
      a1 += x1 * wj
      s1 += x1 * vj
      a2 += x2 * wj
      s2 += x2 * vj
      a3 += x3 * wj
      s3 += x3 * vj
    }
    out[i0] = out[i0]! + crossCoef(scale, lam, y, i0, a0) * s0
    if (left > 1) out[i1] = out[i1]! + crossCoef(scale, lam, y, i1, a1) * s1
    if (left > 2) out[i2] = out[i2]! + crossCoef(scale, lam, y, i2, a2) * s2
    if (left > 3) out[i3] = out[i3]! + crossCoef(scale, lam, y, i3, a3) * s3
  }
  return out
}

const crossCoef = (scale: number, lam: RVec, y: RVec, i: number, z: number): number => {
  const yi = y[i]!
  return scale * dsigmoid(lam[i]!) * yi * dpsi(yi * z)
}

/** Options of the data-cleaning objective. */
export interface DataCleaningOptions {
  /** The fixed ridge weight ρ > 0 of (ρ/2)‖w‖² (default 1). */
  readonly rho?: number
}

/** The data-cleaning lower objective (see the module comment). Built by `dataCleaningObjective`. */
export class DataCleaningObjective implements FusedObjective {
  readonly name = 'dataCleaning'
  readonly dim: number
  readonly hyperDim: number
  readonly nSamples: number
  readonly separable = false
  readonly rho: number
  private readonly X: RVec
  private readonly y: RVec
  private readonly yMaxSq: number

  constructor(readonly train: Dataset, opts: DataCleaningOptions = {}) {
    assertDim(`dataCleaningObjective: X data against ${train.X.rows}×${train.X.cols}`, train.X.rows * train.X.cols, train.X.data.length)
    assertDim(`dataCleaningObjective: labels y against the ${train.X.rows} rows of X`, train.X.rows, train.y.length)
    const rho = opts.rho ?? 1
    if (!(Number.isFinite(rho) && rho > 0)) throw new RangeError(`dataCleaningObjective: ρ must be finite and > 0, got ${rho}`)
    this.rho = rho
    this.X = train.X.data
    this.y = train.y
    this.dim = train.X.cols
    this.nSamples = train.X.rows
    this.hyperDim = train.X.rows
    this.yMaxSq = maxLabelSq(train.y)
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

  private checkArgs(what: string, w: RVec, lambda: RVec): void {
    assertDim(`${this.name}.${what}: w`, this.dim, w.length)
    assertDim(`${this.name}.${what}: λ`, this.hyperDim, lambda.length)
  }

  value(w: RVec, lambda: RVec, batch?: Batch): number {
    this.checkArgs('value', w, lambda)
    const scale = batchScale(`${this.name}.value`, this.nSamples, batch)
    const data = rowValue(this.X, this.nSamples, this.dim, this.y, w, batch, scale, 1, lambda, EMPTY)
    let reg = 0
    for (let j = 0; j < this.dim; j++) reg += w[j]! * w[j]!
    return data + 0.5 * this.rho * reg
  }

  gradInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec {
    this.checkArgs('gradInto', w, lambda)
    assertDim(`${this.name}.gradInto: out`, this.dim, out.length)
    assertNoAlias(`${this.name}.gradInto`, out, w)
    assertNoAlias(`${this.name}.gradInto`, out, lambda)
    const scale = batchScale(`${this.name}.grad`, this.nSamples, batch)
    rowGradPass(this.X, this.nSamples, this.dim, this.y, w, batch, scale, 1, lambda, EMPTY, out)
    const r = this.rho
    for (let j = 0; j < this.dim; j++) out[j] = out[j]! + r * w[j]!
    return out
  }

  hvpInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec {
    this.checkArgs('hvpInto', w, lambda)
    assertDim(`${this.name}.hvpInto: u`, this.dim, u.length)
    assertDim(`${this.name}.hvpInto: out`, this.dim, out.length)
    assertNoAlias(`${this.name}.hvpInto`, out, w)
    assertNoAlias(`${this.name}.hvpInto`, out, u)
    assertNoAlias(`${this.name}.hvpInto`, out, lambda)
    const scale = batchScale(`${this.name}.hvp`, this.nSamples, batch)
    rowHvpPass(this.X, this.nSamples, this.dim, this.y, w, u, batch, scale, 1, lambda, EMPTY, out)
    const r = this.rho
    for (let j = 0; j < this.dim; j++) out[j] = out[j]! + r * u[j]!
    return out
  }

  grad(w: RVec, lambda: RVec, batch?: Batch): Vec {
    return this.gradInto(w, lambda, new Float64Array(this.dim), batch)
  }

  hvp(w: RVec, lambda: RVec, u: RVec, batch?: Batch): Vec {
    return this.hvpInto(w, lambda, u, new Float64Array(this.dim), batch)
  }

  /** ∇²_wλ ℓ μ = Σᵢ μᵢ σ'(λᵢ) ψ'(yᵢxᵢᵀw) yᵢ xᵢ (over the batch, scaled n/|B|), one pass over the rows. */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec {
    this.checkArgs('crossJvp', w, lambda)
    assertDim(`${this.name}.crossJvp: μ`, this.hyperDim, mu.length)
    const scale = batchScale(`${this.name}.crossJvp`, this.nSamples, batch)
    return rowGradPass(this.X, this.nSamples, this.dim, this.y, w, batch, scale, 2, lambda, mu, new Float64Array(this.dim))
  }

  /**
   * ((∇²_wλ ℓ)ᵀ v)ᵢ = σ'(λᵢ) ψ'(yᵢxᵢᵀw) yᵢ xᵢᵀv; on a batch, (n/|B|) times that on the batch
   * entries (accumulated over repeats) and 0 elsewhere.
   */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec {
    this.checkArgs('crossVjp', w, lambda)
    assertDim(`${this.name}.crossVjp: v`, this.dim, v.length)
    const scale = batchScale(`${this.name}.crossVjp`, this.nSamples, batch)
    return rowCrossVjpPass(this.X, this.nSamples, this.dim, this.y, w, v, lambda, batch, scale, new Float64Array(this.hyperDim))
  }

  /**
   * The dense Hessian ∇²_ww ℓ(w, λ) = Xᵀ diag(σ(λᵢ) yᵢ² ψ''(yᵢxᵢᵀw)) X + ρI, by the sparse-aware
   * `weightedGram`. Fresh, symmetric.
   */
  hessian(w: RVec, lambda: RVec): Matrix {
    this.checkArgs('hessian', w, lambda)
    const h = gramOf(this.train.X, rowCurvatures(this.X, this.nSamples, this.dim, this.y, w, 1, lambda))
    const p = this.dim, g = h.data as Vec
    for (let j = 0; j < p; j++) g[j * p + j] = g[j * p + j]! + this.rho
    return h
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
  const rho = opts?.rho ?? 1
  if (!(Number.isFinite(rho) && rho > 0)) return E.left(hgError('domain', `dataCleaningProblem: ρ must be finite and > 0, got ${rho}`))
  const valid = pipe(
    validateDataset('dataCleaningProblem: train', train, 1),
    E.chain(() => validateDataset('dataCleaningProblem: validation', validation)),
    E.chain(() => validateSplit('dataCleaningProblem', train, validation)),
  )
  if (E.isLeft(valid)) return valid
  const lower = dataCleaningObjective(train, { rho })
  const lam = lower.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  const upper = logisticUpper(validation, lower.hyperDim)
  const alpha = opts?.alpha ?? optimalStep(lower.curvature(lam.right))
  return ermProblem(lower, upper, { alpha, name: lower.name })
}
