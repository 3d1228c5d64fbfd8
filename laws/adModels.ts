/**
 * The library's hand-written ERM problems (src/problems: ridge, logistic, data cleaning)
 * written again with the `ad` engine, for the law suite (laws/ad.test.ts): each model is a few
 * lines of ℓ and E, and `adErmProblem` derives every product. A design matrix may be dense or
 * CSR (`matvec` takes both).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as ad from '../src/ad/index.js'
import type { Node } from '../src/ad/index.js'
import type { BatchView } from '../src/ad/batch.js'
import type { Dataset } from '../src/data/dataset.js'
import { hgError, type HypergradError } from '../src/errors.js'
import type { CsrMatrix } from '../src/linalg/csr.js'
import type { Matrix, RVec } from '../src/linalg/types.js'
import { adErmProblem, type AdErmOptions } from '../src/problem/adErm.js'
import type { ErmProblem } from '../src/problem/erm.js'

/** A dataset whose design matrix may be dense or CSR. */
export interface Data {
  readonly X: Matrix | CsrMatrix
  readonly y: RVec
}

/** Σ over the batch of ψ(yᵢ xᵢᵀw) = softplus(−yᵢ xᵢᵀw), scaled by n/|B|: the logistic data term. */
export const logisticLoss = (d: Data, w: Node, batch: BatchView): Node =>
  ad.mul(batch.scale, ad.sum(ad.softplus(ad.neg(ad.mul(batch.rows(d.y), ad.matvec(batch.rows(d.X), w))))))

/** Σ_val ψ(yᵢ xᵢᵀw) on the whole set. */
export const logisticValidation = (d: Data, w: Node): Node => ad.sum(ad.softplus(ad.neg(ad.mul(d.y, ad.matvec(d.X, w)))))

/** ½ Σⱼ λⱼ wⱼ² (λ of length d) or (λ/2)‖w‖² (λ of length 1). */
export const l2 = (w: Node, lambda: Node): Node => (lambda.size === 1 ? ad.mul(ad.mul(0.5, lambda), ad.dot(w, w)) : ad.mul(0.5, ad.dot(lambda, ad.square(w))))

const positive = (name: string) => (lambda: RVec): E.Either<HypergradError, RVec> => {
  for (let j = 0; j < lambda.length; j++)
    if (!(Number.isFinite(lambda[j]!) && lambda[j]! > 0)) return E.left(hgError('domain', `${name}: λ[${j}] = ${lambda[j]} must be finite and > 0`))
  return E.right(lambda)
}

const minOf = (l: RVec): number => l.reduce((a, b) => Math.min(a, b), Infinity)

type Extra = Partial<Pick<AdErmOptions, 'alpha' | 'seed'>>

/** ℓ = Σ ψ(yᵢxᵢᵀw) + R(w, λ), E = Σ_val ψ (the SID §6 problem); τ = min λ, L estimated at w = 0 (where ψ'' is largest). */
export const adLogisticProblem = (train: Data, validation: Data, m: 1 | 'perFeature', lambda0: RVec, extra: Extra = {}): E.Either<HypergradError, ErmProblem> =>
  adErmProblem({
    name: 'adLogistic',
    dim: train.X.cols,
    hyperDim: m === 1 ? 1 : train.X.cols,
    nSamples: train.X.rows,
    lower: (w, lam, batch) => ad.add(logisticLoss(train, w, batch), l2(w, lam)),
    upper: (w) => logisticValidation(validation, w),
    lambda0,
    checkLambda: positive('adLogistic'),
    tau: minOf,
    separable: true,
    ...extra,
  })

/** ℓ = ½Σ(xᵢᵀw − yᵢ)² + R(w, λ), E = ½‖X_val w − y_val‖²; τ and L by power iteration (exact: ℓ is quadratic). */
export const adRidgeProblem = (train: Dataset, validation: Dataset, m: 1 | 'perFeature', lambda0: RVec, extra: Extra = {}): E.Either<HypergradError, ErmProblem> =>
  adErmProblem({
    name: 'adRidge',
    dim: train.X.cols,
    hyperDim: m === 1 ? 1 : train.X.cols,
    nSamples: train.X.rows,
    lower: (w, lam, batch) => {
      const r = ad.sub(ad.matvec(batch.rows(train.X), w), batch.rows(train.y))
      return ad.add(ad.mul(0.5 * batch.scale, ad.dot(r, r)), l2(w, lam))
    },
    upper: (w) => {
      const r = ad.sub(ad.matvec(validation.X, w), validation.y)
      return ad.mul(0.5, ad.dot(r, r))
    },
    lambda0,
    checkLambda: positive('adRidge'),
    separable: true,
    ...extra,
  })

/** ℓ = Σ σ(λᵢ) ψ(yᵢxᵢᵀw) + (ρ/2)‖w‖² (one λ per sample), E = Σ_val ψ; τ = ρ. */
export const adDataCleaningProblem = (train: Dataset, validation: Dataset, lambda0: RVec, rho = 1, extra: Extra = {}): E.Either<HypergradError, ErmProblem> =>
  adErmProblem({
    name: 'adDataCleaning',
    dim: train.X.cols,
    hyperDim: train.X.rows,
    nSamples: train.X.rows,
    lower: (w, lam, batch) => {
      const losses = ad.softplus(ad.neg(ad.mul(batch.rows(train.y), ad.matvec(batch.rows(train.X), w))))
      return ad.add(ad.mul(batch.scale, ad.dot(ad.sigmoid(batch.rows(lam)), losses)), ad.mul(0.5 * rho, ad.dot(w, w)))
    },
    upper: (w) => logisticValidation(validation, w),
    lambda0,
    tau: () => rho,
    separable: false,
    ...extra,
  })
