/**
 * Hyper-representation (Grazzi et al. 2020): a representation h(x) = tanh(Λx) is learned at the
 * upper level, a ridge head w on top of it at the lower level:
 *
 *   ℓ(w, Λ) = Σᵢ ½(h(xᵢ)ᵀw − yᵢ)² + (ρ/2)‖w‖²,     E(w, Λ) = ½ Σ_val (h(xᵢ)ᵀw − yᵢ)²,
 *
 * with Λ ∈ R^{k×p} (λ is its row-major flattening, a k × p matrix inside the engine). Written with
 * the `ad` engine in src/problems/hyperRepresentation.ts (`problems.hyperRepresentationProblem`);
 * `adErmProblem` derives every product, including the cross terms through the
 * representation (Λ enters the data term: the problem is not separable) and ∇_Λ E. ℓ(·, Λ) is
 * ρ-strongly convex (τ = ρ), and its curvature depends on Λ: the step α of Φ = w − α∇ℓ is fixed
 * once, so it is set from a bound valid for every Λ, L ≤ ‖H‖²_F + ρ ≤ nk + ρ (|tanh| < 1);
 * the heavy-ball solver is tuned to the exact curvature at the current Λ (power iteration; ℓ is
 * quadratic in w).
 *
 *   npx tsx examples/hyperRepresentation.ts
 *
 * fits Λ for 30 Adam steps on data from a random teacher network y = v*ᵀ tanh(Λ* x) + noise and
 * prints the validation loss f(Λ) per step (hypergradients by AID: heavy ball + conjugate gradient).
 */
import * as E from 'fp-ts/lib/Either.js'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { aid, linalg, orThrow, problems, random, solvers, tune } from 'hypergrad'
import type { HypergradError, HypergradResult, RVec, Vec } from 'hypergrad'
import { problem as hgProblem } from 'hypergrad'
import type { problem as P } from 'hypergrad'

export type Regression = problems.DenseData

/** The hyper-representation problem with k features and ridge weight ρ (the library's `problems.hyperRepresentationProblem`). */
export const hyperRepresentation = (train: Regression, validation: Regression, k: number, rho: number, lambda0: RVec): E.Either<HypergradError, P.ErmProblem> =>
  problems.hyperRepresentationProblem(train, validation, k, rho, lambda0)

/** ∇f(Λ) by AID: heavy ball (optimal parameters for [τ, L] at this Λ) and conjugate gradient, both to tight tolerances. */
export const hypergradient = (problem: P.ErmProblem, lambda: RVec, warm?: Vec): E.Either<HypergradError, HypergradResult> => {
  const { tau } = problem.lower.curvature(lambda)
  const zero = new Float64Array(problem.dim)
  const top = hgProblem.powerIteration((u) => problem.lower.hvp(zero, lambda, u), problem.dim, random.seed(0))
  if (E.isLeft(top)) return top
  const L = top.right.value
  const params = solvers.heavyBallParams(tau, 1.01 * L, problem.alpha)
  if (E.isLeft(params)) return params
  const hb = params.right
  return aid(problem, lambda, {
    lower: solvers.lower.heavyBall({ beta: hb.beta, eta: hb.eta }),
    linear: solvers.linear.conjugateGradient({ tol: 1e-12 }),
    t: Math.ceil(40 * Math.sqrt(L / tau)) + 100,
    k: 10 * problem.dim + 50,
    tolLower: 1e-12 * problem.alpha * tau,
    ...(warm !== undefined ? { w0: warm } : {}),
  })
}

/** Training and validation data of a teacher y = v*ᵀ tanh(Λ* x) + 0.05·noise, x ~ N(0, I). */
export const teacher = (seed: number, nTrain: number, nVal: number, p: number, k: number): { train: Regression; validation: Regression } => {
  const [L, r1] = random.normals(random.seed(seed), k * p)
  const [v, r2] = random.normals(r1, k)
  const Lstar = linalg.matrix(k, p, L.map((x) => x / Math.sqrt(p)))
  const draw = (r: random.Rng, n: number): [Regression, random.Rng] => {
    const [x, r3] = random.normals(r, n * p)
    const [e, r4] = random.normals(r3, n)
    const X = linalg.matrix(n, p, x)
    const H = linalg.matMul(X, linalg.transpose(Lstar)).data.map(Math.tanh)
    const y = Float64Array.from({ length: n }, (_, i) => H.slice(i * k, i * k + k).reduce((s, h, j) => s + h * v[j]!, 0) + 0.05 * e[i]!)
    return [{ X, y }, r4]
  }
  const [train, r5] = draw(r2, nTrain)
  const [validation] = draw(r5, nVal)
  return { train, validation }
}

/** A starting Λ: random entries of size 1/√p. */
export const initialLambda = (k: number, p: number, seed: number): Vec => random.normals(random.seed(seed), k * p)[0].map((x) => x / Math.sqrt(p))

const main = (): void => {
  const p = 10, k = 4
  const { train, validation } = teacher(1, 60, 60, p, k)
  const lambda0 = initialLambda(k, p, 2)
  const problem = orThrow(hyperRepresentation(train, validation, k, 0.1, lambda0))
  const result = orThrow(tune(lambda0, ({ lambda, warm }) => hypergradient(problem, lambda, warm.w), { optimizer: 'adam', steps: 30, stepSize: 0.05, warmStart: { lower: true, linear: false } }))
  for (const s of result.trajectory) console.log(JSON.stringify({ step: s.step, validationLoss: s.value, gradNorm: s.gradNorm }))
}

const invoked = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invoked) main()
