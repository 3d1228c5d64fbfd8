/**
 * Kernel ridge regression with a Gaussian (RBF) kernel, its two hyperparameters the kernel
 * width and the ridge weight (Grazzi et al. 2020 §5). The lower variable is the vector of dual
 * coefficients c ∈ Rⁿ, one per training point, and λ = (log σ, log μ):
 *
 *   K(λ)ᵢⱼ = exp(−‖xᵢ − xⱼ‖²/(2σ²)),
 *   ℓ(c, λ) = ½ cᵀK(λ)c + (μ/2)‖c‖² − yᵀc,          c(λ) = (K + μI)⁻¹y,
 *   E(c, λ) = (1/(2n_val)) ‖K_val(λ) c − y_val‖²,     K_val(λ)ᵢⱼ = exp(−‖x′ᵢ − xⱼ‖²/(2σ²)),
 *
 * the validation error of the predictor x ↦ Σⱼ cⱼ k(x, xⱼ). ℓ(·, λ) is quadratic with Hessian
 * K + μI, so τ = μ bounds its curvature from below (K is positive semidefinite) and L is
 * computed by power iteration (exact for a quadratic). The log-parametrization keeps σ, μ > 0
 * for every real λ. Written with the `ad` engine (`adErmProblem` derives Φ = c − α∇ℓ and every
 * product); the squared distances are computed once. The dual objective is not a sum over
 * samples that a minibatch would estimate, so the problem has one sample (nSamples = 1): it is
 * meant for the deterministic methods (aid, itd, exact).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as ad from '../ad/index.js'
import { hgError, type HypergradError } from '../errors.js'
import { matrix, type Matrix, type RVec } from '../linalg/types.js'
import { adErmProblem } from '../problem/adErm.js'
import type { ErmProblem } from '../problem/erm.js'

/** A dense regression set. */
export interface KernelRidgeData {
  readonly X: Matrix
  readonly y: RVec
}

/** The squared Euclidean distances between the rows of A (m × p) and of B (n × p): m × n. */
export const squaredDistances = (A: Matrix, B: Matrix): Matrix => {
  if (A.cols !== B.cols) throw new RangeError(`squaredDistances: A has ${A.cols} columns, B has ${B.cols}`)
  const p = A.cols
  const out = new Float64Array(A.rows * B.rows)
  for (let i = 0; i < A.rows; i++)
    for (let j = 0; j < B.rows; j++) {
      let s = 0
      for (let k = 0; k < p; k++) {
        const d = A.data[i * p + k]! - B.data[j * p + k]!
        s += d * d
      }
      out[i * B.rows + j] = s
    }
  return matrix(A.rows, B.rows, out)
}

/** Options of `kernelRidgeProblem`. */
export interface KernelRidgeOptions {
  /** The step α of Φ = c − α∇ℓ (default 2/(L + μ) at λ₀). */
  readonly alpha?: number
}

/**
 * The kernel ridge regression problem on (train, validation) at λ = (log σ, log μ) (see the
 * module comment). Left when the sets have different feature counts or mismatched targets,
 * or when adErmProblem refuses (λ₀ not of length 2 or not finite).
 */
export const kernelRidgeProblem = (train: KernelRidgeData, validation: KernelRidgeData, lambda0: RVec, opts: KernelRidgeOptions = {}): E.Either<HypergradError, ErmProblem> => {
  const n = train.X.rows
  if (train.X.cols !== validation.X.cols)
    return E.left(hgError('dimension', `kernelRidgeProblem: the training rows have ${train.X.cols} features, the validation rows ${validation.X.cols}`))
  if (train.y.length !== n || validation.y.length !== validation.X.rows)
    return E.left(hgError('dimension', `kernelRidgeProblem: X and y disagree (train ${n} rows, ${train.y.length} targets; validation ${validation.X.rows} rows, ${validation.y.length} targets)`))
  const D = squaredDistances(train.X, train.X)
  const Dval = squaredDistances(validation.X, train.X)
  const y = Float64Array.from(train.y)
  const yVal = Float64Array.from(validation.y)
  // K(λ) = exp(D · s) with s = −½ e^{−2 log σ}.
  const kernel = (dist: Matrix, lambda: ad.Node): ad.Node => ad.exp(ad.mul(dist, ad.mul(-0.5, ad.exp(ad.mul(-2, ad.slice(lambda, 0, 1, 1))))))
  return adErmProblem({
    name: 'kernelRidge',
    dim: n,
    hyperDim: 2,
    nSamples: 1,
    lower: (c, lambda) => {
      const mu = ad.exp(ad.slice(lambda, 1, 1, 1))
      const quad = ad.dot(c, ad.matvec(kernel(D, lambda), c))
      return ad.sub(ad.add(ad.mul(0.5, quad), ad.mul(ad.mul(0.5, mu), ad.dot(c, c))), ad.dot(y, c))
    },
    upper: (c, lambda) => {
      const r = ad.sub(ad.matvec(kernel(Dval, lambda), c), yVal)
      return ad.mul(0.5 / validation.X.rows, ad.dot(r, r))
    },
    lambda0,
    tau: (lambda) => Math.exp(lambda[1]!),
    ...(opts.alpha === undefined ? {} : { alpha: opts.alpha }),
  })
}
