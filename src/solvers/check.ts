/**
 * The one validation module of the solvers and the hypergradient methods. Every check returns
 * an Either whose left is a one-line HypergradError naming who asked, the option and the
 * offending value, so that a method validates everything before any work and nothing throws.
 * Checks of the same kind are written once here and composed with fp-ts (`allOf`, `pipe`,
 * `E.apS`) by the solvers and the methods.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { isStochastic, type BilevelProblem, type StochasticBilevelProblem } from '../problem/bilevel.js'
import type { Schedule } from '../schedule/schedule.js'
import type { LinearSolver, LinearSystem, LowerContext, LowerSolver, SystemShape } from './types.js'

export type Check<A> = E.Either<HypergradError, A>

const ok: Check<void> = E.right(undefined)

/** The check of a solver without options: it accepts every problem or system. */
export const noOptions = (): Check<void> => ok

/** The first Left among already-evaluated checks, or Right. */
export const allOf = (...checks: ReadonlyArray<Check<unknown>>): Check<void> => {
  for (const c of checks) if (E.isLeft(c)) return c
  return ok
}

/** The checks made lazily in order: the first Left, or Right (later checks may assume earlier ones). */
export const firstOf = (...checks: ReadonlyArray<() => Check<unknown>>): Check<void> => {
  for (const c of checks) {
    const r = c()
    if (E.isLeft(r)) return r
  }
  return ok
}

/** The check of an optional value: Right when it is absent. */
export const whenDefined = <A>(x: A | undefined, f: (a: A) => Check<unknown>): Check<unknown> => (x === undefined ? ok : f(x))

/** A HypergradError of the given kind, its message prefixed by who asked. */
export const fail = (kind: HypergradError['kind'], who: string, message: string): Check<never> => E.left(hgError(kind, `${who}: ${message}`))

/** Prefix the message of a Left with who asked. */
export const within = <A>(who: string, c: Check<A>): Check<A> => (E.isLeft(c) ? E.left(hgError(c.left.kind, `${who}: ${c.left.message}`)) : c)

/** A short rendering of a vector for messages: its length and first entries. */
export const showVector = (x: ArrayLike<number>, max = 4): string => {
  const head = Array.from({ length: Math.min(max, x.length) }, (_, i) => String(x[i]))
  return x.length === 1 ? head[0]! : `[${head.join(', ')}${x.length > max ? `, … (${x.length} entries)` : ''}]`
}

/** An iteration count (t, k, truncate, …): an integer ≥ 0. */
export const checkCount = (who: string, name: string, x: number): Check<number> =>
  Number.isInteger(x) && x >= 0 ? E.right(x) : fail('domain', who, `${name} must be an integer ≥ 0, got ${x}`)

/** An integer ≥ min (a batch size, an epoch length, a number of terms). */
export const checkInteger = (who: string, name: string, x: number, min: number): Check<number> =>
  Number.isInteger(x) && x >= min ? E.right(x) : fail('domain', who, `${name} must be an integer ≥ ${min}, got ${x}`)

/** A positive finite number (a step, a relaxation). */
export const checkPositive = (who: string, name: string, x: number): Check<number> =>
  Number.isFinite(x) && x > 0 ? E.right(x) : fail('domain', who, `${name} must be positive and finite, got ${x}`)

/** A number in [0, 1) (a momentum). */
export const checkUnitInterval = (who: string, name: string, x: number): Check<number> =>
  Number.isFinite(x) && x >= 0 && x < 1 ? E.right(x) : fail('domain', who, `${name} must lie in [0, 1), got ${x}`)

/** An optional tolerance: absent, or finite and ≥ 0. */
export const checkTolerance = (who: string, name: string, tol: number | undefined): Check<number | undefined> =>
  tol === undefined || (Number.isFinite(tol) && tol >= 0) ? E.right(tol) : fail('domain', who, `${name} must be finite and ≥ 0, got ${tol}`)

/** An integer seed (default 0). */
export const checkSeed = (who: string, seed: number | undefined): Check<number> => {
  const s = seed ?? 0
  return Number.isInteger(s) ? E.right(s) : fail('domain', who, `seed must be an integer, got ${s}`)
}

/**
 * λ against the problem: its length is hyperDim, every entry is finite, and the problem's own
 * `checkLambda` accepts it (positivity and other domain constraints). Returns a fresh copy.
 */
export const checkLambda = (who: string, problem: BilevelProblem, lambda: RVec): Check<Vec> => {
  if (lambda.length !== problem.hyperDim)
    return fail('dimension', who, `λ has length ${lambda.length}, but ${problem.name} has ${problem.hyperDim} hyperparameters`)
  for (let i = 0; i < lambda.length; i++) if (!Number.isFinite(lambda[i]!)) return fail('domain', who, `λ[${i}] = ${lambda[i]} is not finite`)
  return E.map(() => Float64Array.from(lambda))(within(who, guard(`${problem.name}.checkLambda`, () => problem.checkLambda(lambda))))
}

/** The contraction constant q = problem.contraction(λ), which must lie in [0, 1); a refusal names λ. */
export const checkContraction = (who: string, problem: BilevelProblem, lambda: RVec): Check<number> => {
  const qe = guard(`${problem.name}.contraction`, () => E.right(problem.contraction(lambda)))
  if (E.isLeft(qe)) return qe
  const q = qe.right
  return q >= 0 && q < 1
    ? E.right(q)
    : fail(
        'domain',
        who,
        `Φ(·, λ) must be a contraction, but ${problem.name} has contraction constant q = ${q} at λ = ${showVector(lambda)} (need 0 ≤ q < 1)`,
      )
}

/**
 * A start vector (w₀ or v₀) of length `dim` with finite entries; zeros when absent. Returns a
 * fresh copy (the caller's vector is never held).
 */
export const checkStart = (who: string, name: string, x: RVec | undefined, dim: number): Check<Vec> => {
  if (x === undefined) return E.right(new Float64Array(dim))
  if (x.length !== dim) return fail('dimension', who, `${name} has length ${x.length}, expected ${dim}`)
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return fail('data', who, `${name}[${i}] = ${x[i]} is not finite`)
  return E.right(Float64Array.from(x))
}

/** A batch size b must be an integer with 1 ≤ b ≤ n (draws are without replacement unless `replace`). */
export const checkBatchSize = (who: string, b: number, n: number, replace = false): Check<number> => {
  if (!(Number.isInteger(b) && b >= 1)) return fail('domain', who, `batch size must be an integer ≥ 1, got ${b}`)
  if (!replace && b > n) return fail('domain', who, `batch size ${b} is larger than the ${n} samples`)
  return E.right(b)
}

/** One step η of a schedule: positive and finite. */
export const checkStepAt = (who: string, s: Schedule, t: number, what = 'η'): Check<number> => {
  const eta = s.at(t)
  return Number.isFinite(eta) && eta > 0 ? E.right(eta) : fail('domain', who, `step ${what}_${t} = ${eta} from schedule '${s.describe}' must be positive and finite`)
}

/**
 * The state that ends a stream when a schedule's step at the state's iteration is not positive
 * and finite (a step past those the solver's check covered): the same iterate, flagged.
 */
export const stepFailure = <S extends { readonly iter: number }>(who: string, s: Schedule, state: S, what = 'η'): S & { stop: 'diverged'; reason: string } => {
  const c = checkStepAt(who, s, state.iter, what)
  return { ...state, iter: state.iter + 1, stop: 'diverged', reason: E.isLeft(c) ? c.left.message : `${who}: bad step` }
}

/** Every step a schedule gives for t = 0 … steps−1 (at least t = 0) must be positive and finite. */
export const checkSchedule = (who: string, s: Schedule, steps: number, what = 'η'): Check<void> => {
  if (typeof s !== 'object' || s === null || typeof s.at !== 'function') return fail('config', who, `the schedule must be a Schedule (schedule.constant, schedule.decreasing, …), got ${String(s)}`)
  const upto = Math.max(1, Math.min(steps, 1e7))
  for (let t = 0; t < upto; t++) {
    const c = checkStepAt(who, s, t, what)
    if (E.isLeft(c)) return c
  }
  return ok
}

/** The problem as a stochastic one (a solver that draws minibatches needs Φ̂). */
export const checkStochasticProblem = (who: string, problem: BilevelProblem): Check<StochasticBilevelProblem> =>
  isStochastic(problem) ? E.right(problem) : fail('config', who, `a stochastic solver needs a stochastic problem (Φ̂ on minibatches), but ${problem.name} has none`)

/** A stochastic system shape with 1 ≤ b ≤ n. */
export const checkStochasticShape = (who: string, shape: SystemShape, b: number, replace = false): Check<number> =>
  shape.stochastic && shape.nSamples !== undefined
    ? checkBatchSize(who, b, shape.nSamples, replace)
    : fail('config', who, 'a stochastic solver needs a stochastic linear system (minibatch operators over nSamples terms), and this one has none')

/** The shape of a built system. */
export const shapeOfSystem = (s: LinearSystem): SystemShape => ({
  stochastic: s.matvecHat !== undefined && s.nSamples !== undefined,
  symmetric: s.symmetric,
  ...(s.nSamples === undefined ? {} : { nSamples: s.nSamples }),
})

/** The shape of the systems `linearSystemAt(problem, λ, w)` builds, for any w. */
export const shapeOfProblem = (p: BilevelProblem): SystemShape =>
  isStochastic(p) ? { stochastic: true, nSamples: p.nSamples, symmetric: p.symmetric } : { stochastic: false, symmetric: p.symmetric }

const isSolverOf = (kind: 'lower' | 'linear', m: unknown): boolean =>
  typeof m === 'object' &&
  m !== null &&
  (m as { kind?: unknown }).kind === kind &&
  typeof (m as { init?: unknown }).init === 'function' &&
  typeof (m as { step?: unknown }).step === 'function' &&
  typeof (m as { check?: unknown }).check === 'function'

/**
 * A lower-level solver against a problem for `steps` steps: it is a lower solver value, a
 * stochastic one has a stochastic problem, and its own `check` passes (options, batch sizes,
 * the schedule's first steps).
 */
export const validateLower = (who: string, m: LowerSolver, problem: BilevelProblem, steps: number): Check<void> => {
  if (!isSolverOf('lower', m)) return fail('config', who, `the lower solver must be a lower-level solver value (solvers.lower.*), got ${describe(m)}`)
  if (m.stochastic && !isStochastic(problem))
    return fail('config', who, `the stochastic lower solver ${m.name} needs a stochastic problem, but ${problem.name} has no Φ̂`)
  return E.map(() => undefined)(within(who, guard(m.name, () => m.check(problem, steps))))
}

/** A linear solver against a system shape for `steps` steps (as validateLower). */
export const validateLinear = (who: string, m: LinearSolver, shape: SystemShape, steps: number): Check<void> => {
  if (!isSolverOf('linear', m)) return fail('config', who, `the linear solver must be a linear-system solver value (solvers.linear.*), got ${describe(m)}`)
  if (m.stochastic && !shape.stochastic)
    return fail('config', who, `the stochastic linear solver ${m.name} needs a stochastic system (minibatch operators), and this one has none`)
  return E.map(() => undefined)(within(who, guard(m.name, () => m.check(shape, steps))))
}

/**
 * A lower solver, λ and w₀ checked for a run of `steps` steps on a problem (validateLower,
 * checkLambda, checkStart, in that order): the context and the start to run from, both copies.
 */
export const checkLowerRun = (who: string, m: LowerSolver, problem: BilevelProblem, lambda: RVec, w0: RVec, steps: number): Check<{ ctx: LowerContext; start: Vec }> => {
  const ok = validateLower(who, m, problem, steps)
  if (E.isLeft(ok)) return ok
  const lam = checkLambda(who, problem, lambda)
  if (E.isLeft(lam)) return lam
  return E.map((start: Vec) => ({ ctx: { problem, lambda: lam.right }, start }))(checkStart(who, 'w₀', w0, problem.dim))
}

/** A linear solver, v₀ and b checked for a run of `steps` steps on a system (as checkLowerRun): the start, a copy. */
export const checkLinearRun = (who: string, m: LinearSolver, system: LinearSystem, v0: RVec, steps: number): Check<Vec> => {
  const ok = validateLinear(who, m, shapeOfSystem(system), steps)
  if (E.isLeft(ok)) return ok
  const start = checkStart(who, 'v₀', v0, system.dim)
  if (E.isLeft(start)) return start
  const b = checkStart(who, 'b', system.rhs, system.dim)
  return E.isLeft(b) ? b : start
}

/** Who runs a solver, for messages: `verb(name)` (the name may be missing from a malformed solver value). */
export const runnerOf = (verb: string, m: { readonly name?: string }): string => `${verb}(${m?.name ?? 'solver'})`

const describe = (m: unknown): string =>
  typeof m === 'object' && m !== null ? `an object with ${Object.keys(m).slice(0, 5).join(', ') || 'no fields'}` : String(m)

/**
 * Call code that is not the library's own (a user's solver, problem or observer): an exception
 * it throws becomes a Left naming it, never an escape.
 */
export const guard = <A>(who: string, f: () => Check<A>): Check<A> => {
  try {
    return f()
  } catch (e) {
    return E.left(faultOf(who, e))
  }
}

/** The HypergradError of an exception thrown by code the library called. */
export const faultOf = (who: string, e: unknown): HypergradError => {
  if (typeof e === 'object' && e !== null && (e as { _tag?: unknown })._tag === 'HypergradError') return e as HypergradError
  const inner = (e as { error?: unknown } | null)?.error
  if (typeof inner === 'object' && inner !== null && (inner as { _tag?: unknown })._tag === 'HypergradError') return inner as HypergradError
  const message = e instanceof Error ? e.message : String(e)
  const kind = e instanceof RangeError ? 'dimension' : 'fault'
  return hgError(kind, `${who}: ${message.split('\n')[0]}`)
}
