/**
 * Biased regularization (Grazzi et al. 2020 §5): the lower problem pulls w toward a bias λ
 * learned at the upper level,
 *
 *   ℓ(w, λ) = Σᵢ loss(xᵢᵀw, yᵢ) + (ρ/2)‖w − λ‖²,     E(w) = Σ_val loss(xᵢᵀw, yᵢ),
 *
 * with the squared loss ½(xᵀw − y)² (regression) or the logistic loss log(1 + e^{−y xᵀw})
 * (labels ±1). Written with the `ad` engine; `adErmProblem` derives Φ = w − α∇ℓ and every
 * product. λ enters only the regularizer, so the problem is separable (SID eq. 15), and
 * ℓ(·, λ) is ρ-strongly convex: τ = ρ, and L by power iteration at w = 0 (exact for the
 * squared loss; for the logistic loss the Hessian is largest at w = 0, so L bounds every w).
 *
 * With the squared loss Φ is affine in w and ∂₂Φ = αρI is constant, so ITD (reverse mode) and
 * AID-FP with k = t coincide exactly; the logistic loss makes ∂₁Φ depend on w, and they differ.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as ad from '../ad/index.js'
import type { HypergradError } from '../errors.js'
import type { Matrix, RVec } from '../linalg/types.js'
import { adErmProblem } from '../problem/adErm.js'
import type { ErmProblem } from '../problem/erm.js'

/** A dense data set: X (n × p) and targets y (real, or ±1 for the logistic loss). */
export interface DenseData {
  readonly X: Matrix
  readonly y: RVec
}

/** Options of `biasedRegularizationProblem`. */
export interface BiasedRegularizationOptions {
  /** 'squared' (default): ½(xᵀw − y)²; 'logistic': log(1 + e^{−y xᵀw}). */
  readonly loss?: 'squared' | 'logistic'
}

/** Σ over the rows of loss(Xw, y), for rows given as a matrix or a minibatch's rows. */
const lossSum = (loss: 'squared' | 'logistic', X: Matrix | ad.DataRows, y: RVec | ad.Node, w: ad.Node): ad.Node => {
  const z = ad.matvec(X, w)
  if (loss === 'logistic') return ad.sum(ad.softplus(ad.neg(ad.mul(y, z))))
  const r = ad.sub(z, y)
  return ad.mul(0.5, ad.dot(r, r))
}

/** The biased-regularization problem with weight ρ > 0 (see the module comment). */
export const biasedRegularizationProblem = (
  train: DenseData,
  validation: DenseData,
  rho: number,
  lambda0: RVec,
  opts: BiasedRegularizationOptions = {},
): E.Either<HypergradError, ErmProblem> => {
  const loss = opts.loss ?? 'squared'
  return adErmProblem({
    name: 'biasedRegularization',
    dim: train.X.cols,
    hyperDim: train.X.cols,
    nSamples: train.X.rows,
    lower: (w, lambda, batch) => {
      const shift = ad.sub(w, lambda)
      return ad.add(ad.mul(batch.scale, lossSum(loss, batch.rows(train.X), batch.rows(train.y), w)), ad.mul(rho / 2, ad.dot(shift, shift)))
    },
    upper: (w) => lossSum(loss, validation.X, validation.y, w),
    lambda0,
    tau: () => rho,
    separable: true,
  })
}
