// Solvers are values: compose them, plug them into any method, check them with the laws.
// Run with `npx tsx examples/composeSolvers.ts`.
import { linalg, orThrow, problems, schedule, sid, solvers } from 'hypergrad'
import { checkLowerSolver } from 'hypergrad/laws'
import { nesterov } from './nesterov.js'

// A finite-sum quadratic bilevel problem whose hypergradient is known in closed form.
const problem = orThrow(problems.quadraticProblem({ dim: 10, hyperDim: 3, nSamples: 200, seed: 3 }))
const lambda = Float64Array.of(0.5, 1, 2)
const q = problem.contraction(lambda)
const steps = orThrow(schedule.decreasing(2 / (1 - q * q), 2 / (1 - q * q))) // SID Thm 4.2's β = γ

// SID with SGD averaged from step 500, stopped by a budget of 40 passes over the data, and a
// stochastic fixed-point linear solver whose every state is observed.
const lower = solvers.stopWhen(solvers.averaged(solvers.lower.sgd({ schedule: steps, batchSize: 10 }), { from: 500 }), solvers.rules.budget({ phi: 40 }))
const norms: number[] = []
const linear = solvers.tap(solvers.linear.stochasticFixedPoint({ schedule: steps, batchSize: 10 }), (s) => void norms.push(linalg.norm(s.v)))
const r = orThrow(sid(problem, lambda, { lower, linear, t: 1_000_000, k: 800, seed: 0, finalSamples: 'exact' }))
if (r.status === 'diverged') throw new Error(`diverged: ${r.reason}`)

const exact = problem.hypergradient(lambda)
console.log('hypergradient ', Array.from(r.gradient, (x) => x.toPrecision(6)).join(' '))
console.log('exact         ', Array.from(exact, (x) => x.toPrecision(6)).join(' '))
console.log('relative error', (linalg.distance(r.gradient, exact) / linalg.norm(exact)).toExponential(2))
console.log(`status         ${r.status} (lower: ${r.stages.lower} after t = ${r.t}, ${r.reason}; linear: ${r.stages.linear} after k = ${r.k})`)
console.log(`observed       ${norms.length} linear states, ‖v‖ from ${norms[0]} to ${norms[norms.length - 1]!.toPrecision(6)}`)

// A solver written outside the library (examples/nesterov.ts: init and step) through the same laws.
const report = checkLowerSolver(nesterov({ momentum: 0.5 }), problem, lambda, { seed: 1 })
console.log(`nesterov laws  ${report.results.filter((x) => x.ok).length} of ${report.results.length} hold`)
