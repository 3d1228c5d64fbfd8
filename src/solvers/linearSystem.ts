/** Build the AID/SID linear system (I − ∂₁Φ(w, λ)ᵀ) v = ∇₁E(w, λ) at a lower iterate w. */
import type { RVec } from '../linalg/types.js'
import { isStochastic, type BilevelProblem } from '../problem/bilevel.js'
import type { LinearSystem } from './types.js'

export const linearSystemAt = (problem: BilevelProblem, lambda: RVec, w: RVec): LinearSystem => {
  const base = {
    dim: problem.dim,
    applyJT: (v: RVec) => problem.vjpW(w, lambda, v),
    rhs: problem.gradUpperW(w, lambda),
    symmetric: problem.symmetric,
    q: problem.contraction(lambda),
  }
  if (!isStochastic(problem)) return base
  return {
    ...base,
    applyJTHat: (batch: Readonly<Int32Array>, v: RVec) => problem.vjpWHat(w, lambda, batch, v),
    nSamples: problem.nSamples,
  }
}
