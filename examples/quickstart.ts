import { aid, orThrow, problems, solvers } from 'hypergrad'

// A quadratic bilevel problem whose hypergradient is known in closed form (d = 20, m = 5).
const problem = orThrow(problems.quadraticProblem({ dim: 20, hyperDim: 5, nSamples: 100, seed: 1 }))
const lambda = Float64Array.of(0.5, 1, 2, 4, 8)

// AID: 200 fixed-point (gradient-descent) steps on the lower problem, then conjugate gradient.
const lower = solvers.lower.fixedPointIteration()
const linear = solvers.linear.conjugateGradient({ tol: 1e-12 })
const result = orThrow(aid(problem, lambda, { lower, linear, t: 200, k: 50 }))

console.log(result.status, result.gradient) // the estimate of ∇f(λ)
console.log(problem.hypergradient(lambda)) // the exact ∇f(λ), for comparison
