/**
 * What the tuning experiments' hypergradient oracles share: the warm start of a step, and AID
 * with heavy ball on the lower problem and conjugate gradients on the linear system.
 */
import type * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { WarmStart } from '../outer/tune.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'

/**
 * The starts of a step from the previous step's warm start: w as it is; v divided by this step's
 * α, the oracles handing back αv (the solution of ∇²ℓ p = ∇₁E, which does not depend on α).
 */
export const warmStartAt = (warm: WarmStart, alpha: number): { readonly w0?: Vec; readonly v0?: Vec } => ({
  ...(warm.w !== undefined ? { w0: warm.w } : {}),
  ...(warm.v !== undefined ? { v0: warm.v.map((x) => x / alpha) } : {}),
})

/** AID with heavy ball (β, η) and conjugate gradients, at most maxT and maxK steps, stopped at tolLower and tolLinear. */
export const aidHeavyBallCg = (
  problem: BilevelProblem,
  lambda: RVec,
  hb: { readonly beta: number; readonly eta: number },
  c: { readonly maxT: number; readonly maxK: number; readonly tolLower: number; readonly tolLinear: number },
  start: { readonly w0?: Vec; readonly v0?: Vec },
): E.Either<HypergradError, HypergradResult> =>
  aid(problem, lambda, {
    lower: heavyBall({ beta: hb.beta, eta: hb.eta }),
    linear: conjugateGradient(),
    t: c.maxT,
    k: c.maxK,
    tolLower: c.tolLower,
    tolLinear: c.tolLinear,
    ...start,
  })
