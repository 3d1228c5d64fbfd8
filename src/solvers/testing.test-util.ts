/** Test helpers: a solver's checked stream, unwrapped (tests of solvers that are known to apply). */
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import type { Rng } from '../random/rng.js'
import type { Stream } from '../stream/stream.js'
import { validateLinear, validateLower } from './check.js'
import { linearIterates, lowerIterates } from './solver.js'
import type { LinearSolver, LinearState, LinearSystem, LowerSolver, LowerState, SystemShape } from './types.js'

/** The stream of states of a lower solver (problem, λ, w₀, rng) or a linear one (system, v₀, rng); throws when its check refuses. */
export function iter<S extends LowerState>(m: LowerSolver<S>, problem: BilevelProblem, lambda: RVec, w0: RVec, rng: Rng): Stream<S>
export function iter<S extends LinearState>(m: LinearSolver<S>, system: LinearSystem, v0: RVec, rng: Rng): Stream<S>
export function iter(m: LowerSolver<any> | LinearSolver<any>, a: unknown, b: unknown, c: unknown, d?: unknown): Stream<unknown> {
  return m.kind === 'lower'
    ? orThrow(lowerIterates(m, a as BilevelProblem, b as RVec, c as RVec, d as Rng))
    : orThrow(linearIterates(m as LinearSolver<any>, a as LinearSystem, b as RVec, c as Rng))
}

/** The kind of the Left with which a solver's check (as every entry point runs it) refuses a problem or system shape; undefined when it accepts. */
export function refusal(m: LowerSolver<any>, problem: BilevelProblem, steps?: number): string | undefined
export function refusal(m: LinearSolver<any>, shape: SystemShape, steps?: number): string | undefined
export function refusal(m: LowerSolver<any> | LinearSolver<any>, target: unknown, steps = 5): string | undefined {
  const r = m.kind === 'lower' ? validateLower('test', m, target as BilevelProblem, steps) : validateLinear('test', m as LinearSolver<any>, target as SystemShape, steps)
  return E.isLeft(r) ? r.left.kind : undefined
}

/** The message of that Left ('' when the check accepts). */
export function refusalMessage(m: LowerSolver<any>, problem: BilevelProblem, steps?: number): string
export function refusalMessage(m: LinearSolver<any>, shape: SystemShape, steps?: number): string
export function refusalMessage(m: LowerSolver<any> | LinearSolver<any>, target: unknown, steps = 5): string {
  const r = m.kind === 'lower' ? validateLower('test', m, target as BilevelProblem, steps) : validateLinear('test', m as LinearSolver<any>, target as SystemShape, steps)
  return E.isLeft(r) ? r.left.message : ''
}
