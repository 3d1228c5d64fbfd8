/**
 * A solver's stream of states, the unfold of its `step` from its `init` (see types.ts), and
 * the small pieces every solver shares: the work counts and the access to a state's iterate.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import type { Rng } from '../random/rng.js'
import { fromIterator, type Stream } from '../stream/stream.js'
import { checkLambda, checkStart, firstOf, shapeOfSystem, validateLinear, validateLower } from './check.js'
import type { Counts, LinearSolver, LinearState, LinearSystem, LowerSolver, LowerState, Solver, SolverState } from './types.js'

/** No work yet. */
export const NO_COUNTS: Counts = Object.freeze({ phi: 0, jacW: 0, jacLambda: 0 })

/** The sum of two work counts. */
export const addCounts = (a: Counts, b: Counts): Counts => ({ phi: a.phi + b.phi, jacW: a.jacW + b.jacW, jacLambda: a.jacLambda + b.jacLambda })

/** The iterate of a state: w for a lower-level state, v for a linear one. */
export const iterateOf = (s: LowerState | LinearState): Vec => ('w' in s ? s.w : s.v)

/**
 * The states init(ctx, start, rng), step(init), step(step(init)), … until a state flags `stop`
 * (it is the last one yielded). No check is run: the raw unfold, for solvers already checked.
 * Every iteration starts afresh from init, so the stream is replayable.
 */
export const unfold = <Ctx, S extends SolverState>(m: Solver<Ctx, unknown, S>, ctx: Ctx, start: RVec, rng: Rng): Stream<S> =>
  fromIterator(function* () {
    let s = m.init(ctx, start, rng)
    for (;;) {
      yield s
      if (s.stop !== undefined) return
      s = m.step(ctx, s)
    }
  })

/**
 * The stream of a lower-level solver's states w₀, w₁, … on a problem at λ, after checking the
 * solver against the problem (its options, a stochastic problem for a stochastic solver), λ and
 * w₀. λ and w₀ are copied: changing them afterwards does not change the stream.
 */
export const lowerIterates = <S extends LowerState>(
  m: LowerSolver<S>,
  problem: BilevelProblem,
  lambda: RVec,
  w0: RVec,
  rng: Rng,
): E.Either<HypergradError, Stream<S>> => {
  const who = `iterates(${(m as { name?: string }).name ?? 'solver'})`
  const c = firstOf(
    () => validateLower(who, m as LowerSolver, problem, 1),
    () => checkLambda(who, problem, lambda),
    () => checkStart(who, 'w₀', w0, problem.dim),
  )
  if (E.isLeft(c)) return c
  const ctx = { problem, lambda: Float64Array.from(lambda) }
  return E.right(unfold(m, ctx, Float64Array.from(w0), rng))
}

/** The stream of a linear solver's states v₀, v₁, … on a system, after checking (as lowerIterates). */
export const linearIterates = <S extends LinearState>(
  m: LinearSolver<S>,
  system: LinearSystem,
  v0: RVec,
  rng: Rng,
): E.Either<HypergradError, Stream<S>> => {
  const who = `iterates(${(m as { name?: string }).name ?? 'solver'})`
  const c = firstOf(
    () => validateLinear(who, m as LinearSolver, shapeOfSystem(system), 1),
    () => checkStart(who, 'v₀', v0, system.dim),
    () => checkStart(who, 'b', system.rhs, system.dim),
  )
  if (E.isLeft(c)) return c
  return E.right(unfold(m, system, Float64Array.from(v0), rng))
}
