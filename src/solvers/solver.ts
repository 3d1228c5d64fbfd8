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
import { checkLinearRun, checkLowerRun, runnerOf } from './check.js'
import type { Counts, LinearSolver, LinearState, LinearSystem, LowerContext, LowerSolver, LowerState, Solver, SolverState } from './types.js'

/** No work yet. */
export const NO_COUNTS: Counts = Object.freeze({ phi: 0, jacW: 0, jacLambda: 0 })

/** The sum of two work counts. */
export const addCounts = (a: Counts, b: Counts): Counts => ({ phi: a.phi + b.phi, jacW: a.jacW + b.jacW, jacLambda: a.jacLambda + b.jacLambda })

/** The fields that describe a full-batch solver value: its kind and its name (it draws no minibatches). */
export const fullBatch = <K extends Solver<unknown, unknown, SolverState>['kind']>(kind: K, name: string) => ({ kind, name, stochastic: false as const })

/** The fields that describe a solver value that draws minibatches of b samples: its kind, its name and b. */
export const minibatches = <K extends Solver<unknown, unknown, SolverState>['kind']>(kind: K, name: string, batchSize: number) => ({ kind, name, stochastic: true as const, batchSize })

/** Σ xᵢ² in one pass, left to right (NaN or ∞ when an entry is not finite, or when the sum overflows). */
export const sumSquares = (x: RVec): number => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  return s
}

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
export const lowerIterates = <S extends LowerState>(m: LowerSolver<S>, problem: BilevelProblem, lambda: RVec, w0: RVec, rng: Rng): E.Either<HypergradError, Stream<S>> =>
  E.map(({ ctx, start }: { ctx: LowerContext; start: Vec }) => unfold(m, ctx, start, rng))(checkLowerRun(runnerOf('iterates', m), m as LowerSolver, problem, lambda, w0, 1))

/** The stream of a linear solver's states v₀, v₁, … on a system, after checking (as lowerIterates). */
export const linearIterates = <S extends LinearState>(m: LinearSolver<S>, system: LinearSystem, v0: RVec, rng: Rng): E.Either<HypergradError, Stream<S>> =>
  E.map((start: Vec) => unfold(m, system, start, rng))(checkLinearRun(runnerOf('iterates', m), m as LinearSolver, system, v0, 1))
