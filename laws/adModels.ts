/**
 * The library's hand-written ERM problems (src/problems: ridge, logistic, data cleaning,
 * softmax and softmax data cleaning) written again with the `ad` engine, for the law suite
 * (laws/ad.test.ts): each model is a few lines of ℓ and E, and `adErmProblem` derives every
 * product. A design matrix may be dense or CSR (`matvec` and `matmul` take both).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as ad from '../src/ad/index.js'
import type { Node } from '../src/ad/index.js'
import type { BatchView } from '../src/ad/batch.js'
import type { DesignDataset } from '../src/data/dataset.js'
import { hgError, type HypergradError } from '../src/errors.js'
import type { CsrMatrix } from '../src/linalg/csr.js'
import type { Matrix, RVec } from '../src/linalg/types.js'
import { adErmProblem, type AdErmOptions } from '../src/problem/adErm.js'
import { squaredSpectralNorm } from '../src/problem/spectral.js'
import type { SoftmaxRegularization } from '../src/problems/softmax.js'
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
export const adRidgeProblem = (train: DesignDataset, validation: DesignDataset, m: 1 | 'perFeature', lambda0: RVec, extra: Extra = {}): E.Either<HypergradError, ErmProblem> =>
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
export const adDataCleaningProblem = (train: DesignDataset, validation: DesignDataset, lambda0: RVec, rho = 1, extra: Extra = {}): E.Either<HypergradError, ErmProblem> =>
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

/** CE(Wᵀxᵢ, yᵢ) = lse(Wᵀxᵢ) − (Wᵀxᵢ)_{yᵢ} for the rows i of the batch (m × 1): the rows of X W (m × C) against their labels. */
const crossEntropies = (d: DesignDataset, W: Node, batch: BatchView): Node => ad.softmaxCrossEntropy(ad.matmul(batch.rows(d.X), W), batch.rows(d.y))

/** Σ_val CE(Wᵀxᵢ, yᵢ) on the whole set. */
const softmaxValidation = (d: DesignDataset, W: Node): Node => ad.sum(ad.softmaxCrossEntropy(ad.matmul(d.X, W), d.y))

/**
 * ½ Σ_{j,c} Λ_{jc} W²_{jc} with Λ = λ broadcast over W: a 1 × 1 λ ('scalar'), a d × 1 column
 * ('perFeature': λⱼ on row j), or λ reshaped to a 1 × C row ('perClass': λ_c on column c).
 */
const softmaxRegularizer = (reg: SoftmaxRegularization, W: Node, lambda: Node): Node =>
  ad.mul(0.5, ad.sum(ad.mul(reg === 'perClass' ? ad.reshape(lambda, 1, W.cols) : lambda, ad.square(W))))

/** C = train.nClasses, an integer ≥ 2. */
const classesOf = (name: string, d: DesignDataset): E.Either<HypergradError, number> => {
  const C = d.nClasses
  return C !== undefined && Number.isInteger(C) && C >= 2 ? E.right(C) : E.left(hgError('data', `${name}: the training set needs nClasses ≥ 2, got ${String(C)}`))
}

/**
 * Softmax regression, W ∈ R^{d×C} as w of length d·C (W[j, c] at j·C + c): ℓ = Σ CE(Wᵀxᵢ, yᵢ) +
 * R(W, λ) with R as in src/problems/softmax.ts, E = Σ_val CE; τ = min λ, L = σ_max(X)²/2 + max λ
 * (the Hessian of one cross-entropy is ⪯ ½I). C from `train.nClasses`.
 */
export const adSoftmaxProblem = (train: DesignDataset, validation: DesignDataset, reg: SoftmaxRegularization, lambda0: RVec, extra: Extra = {}): E.Either<HypergradError, ErmProblem> => {
  const classes = classesOf('adSoftmax', train)
  if (E.isLeft(classes)) return classes
  const d = train.X.cols, C = classes.right
  const half = squaredSpectralNorm(train.X) / 2
  return adErmProblem({
    name: 'adSoftmax',
    dim: [d, C],
    hyperDim: reg === 'scalar' ? 1 : reg === 'perFeature' ? d : C,
    nSamples: train.X.rows,
    lower: (W, lam, batch) => ad.add(ad.mul(batch.scale, ad.sum(crossEntropies(train, W, batch))), softmaxRegularizer(reg, W, lam)),
    upper: (W) => softmaxValidation(validation, W),
    lambda0,
    checkLambda: positive('adSoftmax'),
    tau: minOf,
    L: (l) => half + l.reduce((a, b) => Math.max(a, b), -Infinity),
    separable: true,
    ...extra,
  })
}

/** Softmax data cleaning: ℓ = Σ σ(λᵢ) CE(Wᵀxᵢ, yᵢ) + (ρ/2)‖W‖² (one λ per sample), E = Σ_val CE; τ = ρ, L = ρ + σ_max(X)²/2. */
export const adSoftmaxCleaningProblem = (train: DesignDataset, validation: DesignDataset, lambda0: RVec, rho = 1, extra: Extra = {}): E.Either<HypergradError, ErmProblem> => {
  const classes = classesOf('adSoftmaxCleaning', train)
  if (E.isLeft(classes)) return classes
  const d = train.X.cols, C = classes.right
  const L = rho + squaredSpectralNorm(train.X) / 2
  return adErmProblem({
    name: 'adSoftmaxCleaning',
    dim: [d, C],
    hyperDim: train.X.rows,
    nSamples: train.X.rows,
    lower: (W, lam, batch) =>
      ad.add(ad.mul(batch.scale, ad.dot(ad.sigmoid(batch.rows(lam)), crossEntropies(train, W, batch))), ad.mul(0.5 * rho, ad.dot(W, W))),
    upper: (W) => softmaxValidation(validation, W),
    lambda0,
    tau: () => rho,
    L: () => L,
    separable: false,
    ...extra,
  })
}
