import { ad, adErmProblem, aid, exact, linalg, orThrow, random, solvers } from 'hypergrad'
import type { HypergradResult } from 'hypergrad'
import { checkProblem, formatFailures } from 'hypergrad/laws'

// Synthetic data: 30 training and 20 validation rows with 4 features.
const [xs, r1] = random.normals(random.seed(7), 50 * 4)
const [ys] = random.normals(r1, 50)
const train = { X: linalg.matrix(30, 4, xs.subarray(0, 120)), y: ys.subarray(0, 30) }
const validation = { X: linalg.matrix(20, 4, xs.subarray(120)), y: ys.subarray(30) }
const lambda0 = Float64Array.of(0.5)

// ℓ(w, λ) = Σᵢ ½(xᵢᵀw − yᵢ)² + (e^λ/2)‖w‖² and E(w) = ½‖X_val w − y_val‖², written once.
const logRidge = (alpha?: number) =>
  adErmProblem({
    name: 'logRidge',
    dim: 4, // w ∈ R⁴
    hyperDim: 1, // λ ∈ R
    nSamples: 30, // minibatches index the 30 training rows
    lower: (w, lambda, batch) => {
      // On a minibatch B the rows of B, scaled by n/|B|: the unbiased estimate of the sum.
      const r = ad.sub(ad.matvec(batch.rows(train.X), w), batch.rows(train.y))
      return ad.add(ad.mul(0.5 * batch.scale, ad.dot(r, r)), ad.mul(ad.mul(0.5, ad.exp(lambda)), ad.dot(w, w)))
    },
    upper: (w) => {
      const r = ad.sub(ad.matvec(validation.X, w), validation.y)
      return ad.mul(0.5, ad.dot(r, r))
    },
    lambda0,
    separable: true, // λ enters the penalty only (SID eq. 15)
    ...(alpha !== undefined ? { alpha } : {}),
  })

// 1. The laws, with the step shortened by 10% (the laws draw λ near λ₀, each entry times e^±0.1).
const problem = orThrow(logRidge(0.9 * orThrow(logRidge()).alpha))
const report = checkProblem(problem, { seed: 1, numRuns: 10, lambda0, batchSize: 2, data: { train, validation } })
console.log(report.ok ? `all ${report.results.length} laws hold` : formatFailures(report, problem.name))

// 2. AID against the exact hypergradient and a central difference of f(λ) = E(w(λ), λ).
const gradient = (r: HypergradResult) => {
  if (r.status === 'diverged' || r.gradient === null) throw new Error(`${r.method} diverged`)
  return r.gradient
}
const f = (l: number) => orThrow(exact(problem, Float64Array.of(l))).value!
const h = 1e-5
const centralDifference = (f(lambda0[0]! + h) - f(lambda0[0]! - h)) / (2 * h)
const lower = solvers.lower.fixedPointIteration()
const linear = solvers.linear.conjugateGradient()
const estimate = gradient(orThrow(aid(problem, lambda0, { lower, linear, t: 500, k: 20, tolLower: 1e-13 })))
const truth = gradient(orThrow(exact(problem, lambda0)))
console.log(`AID ${estimate[0]!.toFixed(8)}, exact ${truth[0]!.toFixed(8)}, central difference ${centralDifference.toFixed(8)}`)
