/**
 * A small equilibrium model on MNIST digits (Grazzi et al. 2020 §5), through the fixed-point
 * builder: each digit x (pooled to 7 × 7 pixels) gets a hidden state w ∈ Rᵏ defined as the fixed
 * point of
 *
 *   w ↦ tanh(A w + B x + c),
 *
 * and a linear read-out R w + r₀ scores the ten classes. The states of the n digits form the
 * lower variable W (n × k, one row per digit), Φ(W, λ) = tanh(W Aᵀ + X Bᵀ + 1cᵀ), and the upper
 * objective is the mean softmax cross-entropy of the read-out, E(W, λ) = (1/n) Σᵢ ce(Rᵀwᵢ + r₀, yᵢ).
 * The hyperparameters λ = (Ã, B, c, R, r₀) are packed in one vector, with
 *
 *   A = 0.9 Ã / √(1 + ‖Ã‖²_F),
 *
 * so that ‖A‖₂ ≤ ‖A‖_F < 0.9 for every λ: since |tanh'| ≤ 1, Φ(·, λ) is a contraction with
 * q = ‖A‖₂ everywhere, and gradient steps on λ cannot leave the domain (Grazzi et al. project A
 * onto a ball instead). Written with the `ad` engine; `adFixedPointProblem` derives ∂₁Φ u, ∂₁Φᵀ v,
 * ∂₂Φ μ, ∂₂Φᵀ v and ∇E.
 *
 *   npx tsx examples/equilibrium.ts
 *
 * trains the model for 20 Adam steps on 200 digits (each hypergradient by AID with fixed-point
 * iterations on both levels: ∂₁Φ is not symmetric) and prints the loss per step.
 */
import * as E from 'fp-ts/lib/Either.js'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ad, adFixedPointProblem, aid, data, linalg, orThrow, random, solvers, tune } from 'hypergrad'
import type { BilevelProblem, HypergradError, HypergradResult, Matrix, RVec, Vec } from 'hypergrad'

/** Digits as pooled pixels and labels 0–9. */
export interface Digits {
  /** n × 49: the mean of each 4 × 4 block of the 28 × 28 image. */
  readonly X: Matrix
  readonly labels: Float64Array
}

/** n digits of MNIST (in the library's reference shuffle, from `offset`), pooled to 7 × 7. */
export const mnistDigits = (n: number, offset = 0): E.Either<HypergradError, Digits> =>
  E.map((all: data.MnistDigits) => {
    const order = data.referencePermutation()
    const X = new Float64Array(n * 49)
    const labels = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const src = order[offset + i]!
      labels[i] = all.digits[src]!
      for (let r = 0; r < 28; r++)
        for (let c = 0; c < 28; c++) {
          const cell = Math.floor(r / 4) * 7 + Math.floor(c / 4)
          X[i * 49 + cell] = X[i * 49 + cell]! + all.X.data[src * 784 + r * 28 + c]! / 16
        }
    }
    return { X: linalg.matrix(n, 49, X), labels }
  })(data.readMnist())

/** Where each block of λ starts, for k hidden units, p pixels and C classes. */
export const layout = (k: number, p: number, C: number) => {
  const A = 0, B = k * k, c = B + k * p, R = c + k, r0 = R + k * C
  return { A, B, c, R, r0, size: r0 + C }
}

const CLASSES = 10

/** A = 0.9 Ã/√(1 + ‖Ã‖²_F) from the packed λ. */
export const matrixA = (lambda: RVec, k: number): Matrix => {
  const a = lambda.subarray(0, k * k)
  const s = 0.9 / Math.sqrt(1 + a.reduce((t, x) => t + x * x, 0))
  return linalg.matrix(k, k, a.map((x) => s * x))
}

/** ‖A‖₂, the contraction constant of Φ(·, λ). */
export const normA = (lambda: RVec, k: number): number => linalg.spectralNorm(matrixA(lambda, k))

/** The equilibrium model on the digits with k hidden units (see the module comment). */
export const equilibriumProblem = (digits: Digits, k: number, lambda0: RVec): E.Either<HypergradError, BilevelProblem> => {
  const { X, labels } = digits
  const n = X.rows, p = X.cols
  const at = layout(k, p, CLASSES)
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
      const scores = ad.add(ad.matmul(W, ad.slice(l, at.R, k, CLASSES)), ad.slice(l, at.r0, 1, CLASSES))
      return ad.mul(1 / n, ad.sum(ad.softmaxCrossEntropy(scores, labels)))
    },
    lambda0,
    contraction: (l) => normA(l, k),
  })
}

/** A starting λ: Ã with ‖Ã‖_F = 1 (so ‖A‖_F = 0.9/√2), B and R of small random entries, c and r₀ zero. */
export const initialLambda = (k: number, p: number, seed: number): Vec => {
  const at = layout(k, p, CLASSES)
  const l = new Float64Array(at.size)
  const [a, r1] = random.normals(random.seed(seed), k * k)
  const [b, r2] = random.normals(r1, k * p)
  const [r] = random.normals(r2, k * CLASSES)
  const s = 1 / Math.sqrt(a.reduce((t, x) => t + x * x, 0))
  l.set(a.map((x) => s * x), at.A)
  l.set(b.map((x) => x / Math.sqrt(p)), at.B)
  l.set(r.map((x) => 0.5 * x), at.R)
  return l
}

/** ∇f(λ) by AID with fixed-point iterations on both levels, each to an error below 1e-12 (q = ‖A‖₂). */
export const hypergradient = (problem: BilevelProblem, lambda: RVec, warm?: Vec): E.Either<HypergradError, HypergradResult> => {
  const q = problem.contraction(lambda)
  const steps = Math.ceil(Math.log(1e-13) / Math.log(Math.max(q, 1e-3))) + 10
  return aid(problem, lambda, {
    lower: solvers.lower.fixedPointIteration(),
    linear: solvers.linear.fixedPointLinear(),
    t: steps,
    k: steps,
    tolLower: 1e-13,
    ...(warm !== undefined ? { w0: warm } : {}),
  })
}

const main = (): void => {
  const k = 16
  const digits = orThrow(mnistDigits(200))
  const lambda0 = initialLambda(k, 49, 1)
  const problem = orThrow(equilibriumProblem(digits, k, lambda0))
  const result = orThrow(tune(lambda0, ({ lambda, warm }) => hypergradient(problem, lambda, warm.w), { optimizer: 'adam', steps: 20, stepSize: 0.05, warmStart: { lower: true, linear: false } }))
  for (const s of result.trajectory) console.log(JSON.stringify({ step: s.step, loss: s.value, gradNorm: s.gradNorm, normA: normA(Float64Array.from(s.lambda), k) }))
}

const invoked = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invoked) main()
