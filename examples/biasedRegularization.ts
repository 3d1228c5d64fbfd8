/**
 * Biased regularization (Grazzi et al. 2020): the lower problem pulls w toward a bias λ learned at
 * the upper level,
 *
 *   ℓ(w, λ) = Σᵢ ½(xᵢᵀw − yᵢ)² + (ρ/2)‖w − λ‖²,     E(w) = ½‖X_val w − y_val‖²,
 *
 * written with the `ad` engine in src/problems/biasedRegularization.ts (`problems.biasedRegularizationProblem`,
 * which also offers the logistic loss); `adErmProblem` derives Φ = w − α∇ℓ and every product. λ
 * enters only the regularizer, so the problem is separable (SID eq. 15), and ℓ(·, λ) is
 * ρ-strongly convex: τ = ρ, L by power iteration (exact here, ℓ is quadratic in w).
 *
 *   npx tsx examples/biasedRegularization.ts
 *
 * learns the bias of a few noisy samples drawn around a common weight vector b (few samples, so
 * that the bias matters): it prints f(λ) = E(w(λ)) and ‖λ − b‖ before and after 30 steps of
 * gradient descent on λ, each hypergradient by AID (heavy ball + conjugate gradient).
 */
import * as E from 'fp-ts/lib/Either.js'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { aid, linalg, orThrow, problems, random, solvers, tune } from 'hypergrad'
import type { HypergradError, HypergradResult, RVec, Vec } from 'hypergrad'
import type { problem as P } from 'hypergrad'

export type Regression = problems.DenseData

/** The biased-regularization problem with the squared loss (the library's `problems.biasedRegularizationProblem`). */
export const biasedRegularization = (train: Regression, validation: Regression, rho: number, lambda0: RVec): E.Either<HypergradError, P.ErmProblem> =>
  problems.biasedRegularizationProblem(train, validation, rho, lambda0)

/** ∇f(λ) by AID: heavy ball (optimal parameters for [τ, L]) and conjugate gradient, both to tight tolerances. */
export const hypergradient = (problem: P.ErmProblem, lambda: RVec, warm?: Vec): E.Either<HypergradError, HypergradResult> => {
  const { tau, L } = problem.lower.curvature(lambda)
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

/** n samples xᵢ ~ N(0, I), yᵢ = xᵢᵀ(b + δ) + noise, for a common b and a task shift δ. */
export const task = (seed: number, n: number, b: RVec, shift: number): { train: Regression; validation: Regression } => {
  const p = b.length
  const [delta, r1] = random.normals(random.seed(seed), p)
  const w = Float64Array.from(b, (x, j) => x + shift * delta[j]!)
  const draw = (r: random.Rng, m: number): [Regression, random.Rng] => {
    const [x, r2] = random.normals(r, m * p)
    const [e, r3] = random.normals(r2, m)
    const X = linalg.matrix(m, p, x)
    return [{ X, y: linalg.matVec(X, w).map((t, i) => t + 0.1 * e[i]!) }, r3]
  }
  const [train, r4] = draw(r1, n)
  const [validation] = draw(r4, 4 * n)
  return { train, validation }
}

/** `steps` of gradient descent on λ from 0, each hypergradient by AID warm-started at the last w. */
export const learnBias = (train: Regression, validation: Regression, rho: number, steps: number, stepSize: number) => {
  const lambda0 = new Float64Array(train.X.cols)
  const problem = orThrow(biasedRegularization(train, validation, rho, lambda0))
  return orThrow(tune(lambda0, ({ lambda, warm }) => hypergradient(problem, lambda, warm.w), { optimizer: 'gd', steps, stepSize, warmStart: { lower: true, linear: false } }))
}

const main = (): void => {
  const p = 20
  const b = random.normals(random.seed(1), p)[0]
  const { train, validation } = task(2, 8, b, 0.1)
  const lambda0 = new Float64Array(p)
  const distance = (l: RVec): number => linalg.distance(l, b)
  const result = learnBias(train, validation, 1, 30, 0.02)
  const first = result.trajectory[0]!
  console.log(JSON.stringify({ step: 0, f: first.value, distanceToBias: distance(lambda0) }))
  console.log(JSON.stringify({ step: result.trajectory.length, f: result.value, distanceToBias: distance(result.lambda), status: result.status }))
}

const invoked = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invoked) main()
