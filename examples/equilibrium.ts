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
 * onto a ball instead). Written with the `ad` engine in src/problems/equilibrium.ts
 * (`problems.equilibriumProblem`, on digits from `data.mnistPooled`); `adFixedPointProblem`
 * derives ∂₁Φ u, ∂₁Φᵀ v, ∂₂Φ μ, ∂₂Φᵀ v and ∇E.
 *
 *   npx tsx examples/equilibrium.ts
 *
 * trains the model for 20 Adam steps on 200 digits (each hypergradient by AID with fixed-point
 * iterations on both levels: ∂₁Φ is not symmetric) and prints the loss per step.
 */
import * as E from 'fp-ts/lib/Either.js'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { aid, data, orThrow, problems, solvers, tune } from 'hypergrad'
import type { BilevelProblem, HypergradError, HypergradResult, RVec, Vec } from 'hypergrad'

/** Digits as pooled pixels and labels 0–9. */
export type Digits = data.PooledDigits

/** n digits of MNIST (in the library's reference shuffle, from `offset`), pooled to 7 × 7. */
export const mnistDigits = (n: number, offset = 0): E.Either<HypergradError, Digits> => data.mnistPooled(n, offset)

/** Where each block of λ starts, for k hidden units, p pixels and C classes. */
export const layout = (k: number, p: number, C: number) => problems.equilibriumLayout(k, p, C)

/** ‖A‖₂, the contraction constant of Φ(·, λ). */
export const normA = (lambda: RVec, k: number): number => problems.equilibriumContraction(lambda, k)

/** The equilibrium model on the digits with k hidden units (the library's `problems.equilibriumProblem`). */
export const equilibriumProblem = (digits: Digits, k: number, lambda0: RVec): E.Either<HypergradError, BilevelProblem> => problems.equilibriumProblem(digits, k, lambda0)

/** A starting λ: Ã with ‖Ã‖_F = 1 (so ‖A‖_F = 0.9/√2), B and R of small random entries, c and r₀ zero. */
export const initialLambda = (k: number, p: number, seed: number): Vec => problems.equilibriumInitialLambda(k, p, seed)

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
