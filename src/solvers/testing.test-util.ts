/** Test helpers: a solver's checked stream, unwrapped (tests of solvers that are known to apply). */
import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'
import { orThrow } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { distance } from '../linalg/vector.js'
import { seed, type Rng } from '../random/rng.js'
import { take, toArray, type Stream } from '../stream/stream.js'
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

/** The bytes of each vector, in hex: equal lists are equal bit for bit. */
export const bits = (xs: ReadonlyArray<Float64Array>): string[] => xs.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex'))

/** A stochastic lower solver replays its first 30 iterates bit for bit from seed 1, and draws others from seed 2. */
export const expectReplaysAndDependsOnRng = <S extends LowerState>(m: LowerSolver<S>, problem: BilevelProblem, lambda: RVec, w0: RVec): void => {
  const s = take(30)(iter(m, problem, lambda, w0, seed(1)))
  const a = toArray(s).map((x) => x.w)
  expect(bits(toArray(s).map((x) => x.w))).toEqual(bits(a))
  expect(bits(toArray(take(30)(iter(m, problem, lambda, w0, seed(2)))).map((x) => x.w))).not.toEqual(bits(a))
}

/** The first `steps` steps of a solver (from seed 9) are the deterministic relaxed steps w + η(Φ(w) − w), to 1e-12. */
export const expectRelaxedSteps = <S extends LowerState>(m: LowerSolver<S>, problem: BilevelProblem, lambda: RVec, w0: RVec, eta: number, steps: number): void => {
  const st = toArray(take(steps)(iter(m, problem, lambda, w0, seed(9))))
  let w: Float64Array = Float64Array.from(w0)
  for (let t = 1; t < steps; t++) {
    const p = problem.phi(w, lambda)
    w = w.map((x, i) => x + eta * (p[i]! - x))
    expect(distance(st[t]!.w, w)).toBeLessThan(1e-12)
  }
}
