/**
 * Hyper-representation (Grazzi et al. 2020 §5): a representation h(x) = tanh(Λx) is learned at
 * the upper level, a ridge head w on top of it at the lower level:
 *
 *   ℓ(w, Λ) = Σᵢ ½(h(xᵢ)ᵀw − yᵢ)² + (ρ/2)‖w‖²,     E(w, Λ) = ½ Σ_val (h(xᵢ)ᵀw − yᵢ)²,
 *
 * with Λ ∈ R^{k×p} (λ is its row-major flattening, a k × p matrix inside the engine). Written
 * with the `ad` engine; `adErmProblem` derives every product, including the cross terms through
 * the representation (Λ enters the data term: the problem is not separable) and ∇_Λ E.
 * ℓ(·, Λ) is quadratic and ρ-strongly convex (τ = ρ); its curvature depends on Λ, and the step
 * α of Φ = w − α∇ℓ is fixed once: by default it is set from a bound valid for every Λ,
 * L ≤ ‖H‖²_F + ρ ≤ nk + ρ (|tanh| < 1); a caller working near one Λ may give a tighter L.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as ad from '../ad/index.js'
import type { HypergradError } from '../errors.js'
import type { Matrix, RVec } from '../linalg/types.js'
import { adErmProblem } from '../problem/adErm.js'
import type { ErmProblem } from '../problem/erm.js'
import type { DenseData } from './biasedRegularization.js'

/** Options of `hyperRepresentationProblem`. */
export interface HyperRepresentationOptions {
  /** L(Λ) ≥ the largest eigenvalue of HᵀH + ρI (default nk + ρ, valid for every Λ); sets α = 2/(L + ρ) at Λ₀. */
  readonly L?: (lambda: RVec) => number
}

/** h(x) = tanh(Λx) for the rows x of a data matrix (or of the minibatch's rows): an n × k node. */
const features = (X: Matrix | ad.DataRows, lambda: ad.Node): ad.Node => ad.tanh(ad.matmul(X, lambda, { transB: true }))

/** The hyper-representation problem with k features and ridge weight ρ > 0 (see the module comment). */
export const hyperRepresentationProblem = (
  train: DenseData,
  validation: DenseData,
  k: number,
  rho: number,
  lambda0: RVec,
  opts: HyperRepresentationOptions = {},
): E.Either<HypergradError, ErmProblem> =>
  adErmProblem({
    name: 'hyperRepresentation',
    dim: k,
    hyperDim: [k, train.X.cols],
    nSamples: train.X.rows,
    lower: (w, lambda, batch) => {
      const r = ad.sub(ad.matvec(features(batch.rows(train.X), lambda), w), batch.rows(train.y))
      return ad.add(ad.mul(0.5 * batch.scale, ad.dot(r, r)), ad.mul(rho / 2, ad.dot(w, w)))
    },
    upper: (w, lambda) => {
      const r = ad.sub(ad.matvec(features(validation.X, lambda), w), validation.y)
      return ad.mul(0.5, ad.dot(r, r))
    },
    lambda0,
    tau: () => rho,
    L: opts.L ?? (() => train.X.rows * k + rho),
    separable: false,
  })
