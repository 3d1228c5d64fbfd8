/**
 * An equilibrium model (Grazzi et al. 2020 §5), through the fixed-point builder: each input x
 * (a row of X, n × p) gets a hidden state w ∈ Rᵏ defined as the fixed point of
 *
 *   w ↦ tanh(A w + B x + c),
 *
 * and a linear read-out R w + r₀ scores C classes. The states of the n inputs form the lower
 * variable W (n × k, one row per input), Φ(W, λ) = tanh(W Aᵀ + X Bᵀ + 1cᵀ), and the upper
 * objective is the mean softmax cross-entropy of the read-out, E(W, λ) = (1/n) Σᵢ ce(Rᵀwᵢ + r₀, yᵢ).
 * The hyperparameters λ = (Ã, B, c, R, r₀) are packed in one vector (`equilibriumLayout`), with
 *
 *   A = 0.9 Ã / √(1 + ‖Ã‖²_F),
 *
 * so that ‖A‖₂ ≤ ‖A‖_F < 0.9 for every λ: since |tanh'| ≤ 1, Φ(·, λ) is a contraction with
 * q = ‖A‖₂ everywhere, and gradient steps on λ cannot leave the domain (Grazzi et al. project A
 * onto a ball instead). ∂₁Φ = diag(tanh′)·(A ⊗ I) is not symmetric: conjugate gradient does not
 * apply to its linear system (the problem says so: `symmetric` is false).
 */
import * as E from 'fp-ts/lib/Either.js'
import * as ad from '../ad/index.js'
import type { HypergradError } from '../errors.js'
import { spectralNorm } from '../linalg/matrix.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import { adFixedPointProblem, type AdFixedPointProblem } from '../problem/adFixedPoint.js'
import { normals, seed as rngSeed } from '../random/rng.js'

/** Inputs and their class labels 0..C−1. */
export interface LabelledInputs {
  /** n × p. */
  readonly X: Matrix
  /** The class (an integer in 0..C−1) of each row. */
  readonly labels: Float64Array
}

/** Where each block of λ starts, for k hidden units, p inputs and C classes; `size` is the length of λ. */
export const equilibriumLayout = (k: number, p: number, C: number) => {
  const A = 0, B = k * k, c = B + k * p, R = c + k, r0 = R + k * C
  return { A, B, c, R, r0, size: r0 + C }
}

/** A = 0.9 Ã/√(1 + ‖Ã‖²_F) from the packed λ. */
export const equilibriumMatrixA = (lambda: RVec, k: number): Matrix => {
  const a = lambda.subarray(0, k * k)
  const s = 0.9 / Math.sqrt(1 + a.reduce((t, x) => t + x * x, 0))
  return matrix(k, k, a.map((x) => s * x))
}

/** ‖A‖₂, the contraction constant of Φ(·, λ). */
export const equilibriumContraction = (lambda: RVec, k: number): number => spectralNorm(equilibriumMatrixA(lambda, k))

/**
 * The equilibrium model on the inputs with k hidden units and C classes (see the module
 * comment). Left when adFixedPointProblem refuses (λ₀ of the wrong length, a label outside 0..C−1).
 */
export const equilibriumProblem = (inputs: LabelledInputs, k: number, lambda0: RVec, classes = 10): E.Either<HypergradError, AdFixedPointProblem> => {
  const { X, labels } = inputs
  const n = X.rows, p = X.cols
  const at = equilibriumLayout(k, p, classes)
  return adFixedPointProblem({
    name: 'equilibrium',
    dim: [n, k],
    hyperDim: at.size,
    phi: (W, l) => {
      const At = ad.slice(l, at.A, k, k)
      const A = ad.div(ad.mul(0.9, At), ad.sqrt(ad.add(1, ad.dot(At, At))))
      const B = ad.slice(l, at.B, k, p)
      const c = ad.slice(l, at.c, 1, k)
      return ad.tanh(ad.add(ad.add(ad.matmul(W, A, { transB: true }), ad.matmul(X, B, { transB: true })), c))
    },
    upper: (W, l) => {
      const scores = ad.add(ad.matmul(W, ad.slice(l, at.R, k, classes)), ad.slice(l, at.r0, 1, classes))
      return ad.mul(1 / n, ad.sum(ad.softmaxCrossEntropy(scores, labels)))
    },
    lambda0,
    contraction: (l) => equilibriumContraction(l, k),
  })
}

/**
 * A starting λ drawn from `seed`: Ã with ‖Ã‖_F = 1 (so ‖A‖_F = 0.9/√2), B with entries of size
 * 1/√p, R of size ½, c and r₀ zero.
 */
export const equilibriumInitialLambda = (k: number, p: number, seed: number, classes = 10): Vec => {
  const at = equilibriumLayout(k, p, classes)
  const l = new Float64Array(at.size)
  const [a, r1] = normals(rngSeed(seed), k * k)
  const [b, r2] = normals(r1, k * p)
  const [r] = normals(r2, k * classes)
  const s = 1 / Math.sqrt(a.reduce((t, x) => t + x * x, 0))
  l.set(a.map((x) => s * x), at.A)
  l.set(b.map((x) => x / Math.sqrt(p)), at.B)
  l.set(r.map((x) => 0.5 * x), at.R)
  return l
}
