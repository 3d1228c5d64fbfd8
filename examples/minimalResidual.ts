// A linear solver written as init/step: the minimal-residual iteration, run through the solver
// laws and plugged into AID. Run with `npx tsx examples/minimalResidual.ts`.
import * as E from 'fp-ts/lib/Either.js'
import { aid, linalg, orThrow, problems, solvers } from 'hypergrad'
import type { LinearSolver, LinearState, Vec } from 'hypergrad'
import { checkLinearSolver, formatFailures } from 'hypergrad/laws'

/** A state: vₖ, its residual rₖ = b − A vₖ and ‖rₖ‖. */
interface MinresState extends LinearState {
  readonly r: Vec
  readonly residual: number
}

/**
 * The minimal-residual iteration on A v = b: vₖ₊₁ = vₖ + αₖrₖ with αₖ = ⟨rₖ, Arₖ⟩/‖Arₖ‖², the
 * step that minimizes ‖rₖ₊₁‖ along rₖ. For A = I − ∂₁Φᵀ with ‖∂₁Φ‖ ≤ q < 1, ⟨x, Ax⟩ ≥ (1 − q)‖x‖²
 * and ‖A‖ ≤ 1 + q, so ‖rₖ₊₁‖ ≤ √(1 − (1 − q)²/(1 + q)²)·‖rₖ‖ without symmetry: it applies
 * where conjugate gradient does not. One product with A per step.
 */
export const minimalResidual = (): LinearSolver<MinresState> => ({
  kind: 'linear',
  name: 'minres1',
  stochastic: false,
  check: () => E.right(undefined), // no options to refuse
  init: (system, v0, rng) => {
    const v = Float64Array.from(v0)
    const r = linalg.sub(system.rhs, system.matvec(v)) // r₀ = b − Av₀
    return { v, r, residual: linalg.norm(r), iter: 0, rng, counts: { phi: 0, jacW: 1, jacLambda: 0 } }
  },
  step: (system, s) => {
    const ar = system.matvec(s.r)
    const arr = linalg.normSq(ar)
    const counts = { ...s.counts, jacW: s.counts.jacW + 1 }
    // r = 0: v solves the system, the stream ends here.
    if (arr === 0) return { ...s, iter: s.iter + 1, counts, stop: 'converged', reason: 'zero residual' }
    const alpha = linalg.dot(s.r, ar) / arr
    const r = linalg.axpby(-alpha, ar, s.r) // fresh arrays: a state is never written again
    return { v: linalg.axpby(alpha, s.r, s.v), r, residual: linalg.norm(r), iter: s.iter + 1, rng: s.rng, counts }
  },
})

// 1. The solver laws on a non-symmetric system with a known solution.
const problem = orThrow(problems.linearFixedPointProblem({ dim: 8, hyperDim: 3, q: 0.9, seed: 4 }))
const lambda = Float64Array.of(0.3, -0.5, 1)
const build = () => solvers.linearSystemAt(problem, lambda, problem.solution(lambda))
const report = checkLinearSolver(minimalResidual(), build, { seed: 1, steps: 20 })
console.log(report.ok ? `all ${report.results.length} solver laws hold` : formatFailures(report, 'minres1'))

// 2. Plugged into AID, against the fixed-point linear solver at the same k.
const truth = problem.hypergradient(lambda)
for (const linear of [solvers.linear.fixedPointLinear(), minimalResidual()]) {
  const r = orThrow(aid(problem, lambda, { lower: solvers.lower.fixedPointIteration(), linear, t: 400, k: 30 }))
  if (r.status === 'diverged') throw new Error(r.reason)
  console.log(`${r.method.padEnd(16)} k = ${r.k}  ‖∇̂f − ∇f‖ = ${linalg.distance(r.gradient, truth).toExponential(1)}`)
}
