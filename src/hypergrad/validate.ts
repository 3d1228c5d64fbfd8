/**
 * Input checks shared by the hypergradient methods (AID, ITD, exact). Each returns an Either
 * whose left is a HypergradError naming the method, the argument and the offending value, so
 * that a method can validate everything before doing any work.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { isStochastic, type BilevelProblem } from '../problem/bilevel.js'
import type { LinearMethod, LowerMethod } from '../solvers/types.js'

type Check<A> = E.Either<HypergradError, A>

/** An iteration count (t, k, truncate, …): an integer ≥ 0. */
export const checkCount = (who: string, name: string, x: number): Check<number> =>
  Number.isInteger(x) && x >= 0 ? E.right(x) : E.left(hgError('domain', `${who}: ${name} must be an integer ≥ 0, got ${x}`))

/**
 * λ against the problem: its length is hyperDim, every entry is finite, and the problem's own
 * `checkLambda` accepts it (positivity and other domain constraints). Returns a fresh copy.
 */
export const checkLambda = (who: string, problem: BilevelProblem, lambda: RVec): Check<Vec> => {
  if (lambda.length !== problem.hyperDim)
    return E.left(hgError('dimension', `${who}: λ has length ${lambda.length}, but ${problem.name} has ${problem.hyperDim} hyperparameters`))
  for (let i = 0; i < lambda.length; i++)
    if (!Number.isFinite(lambda[i]!)) return E.left(hgError('domain', `${who}: λ[${i}] = ${lambda[i]} is not finite`))
  const own = problem.checkLambda(lambda)
  if (E.isLeft(own)) return E.left(hgError(own.left.kind, `${who}: ${own.left.message}`))
  return E.right(Float64Array.from(lambda))
}

/** The contraction constant q = problem.contraction(λ), which must lie in [0, 1). */
export const checkContraction = (who: string, problem: BilevelProblem, lambda: RVec): Check<number> => {
  const q = problem.contraction(lambda)
  return q >= 0 && q < 1
    ? E.right(q)
    : E.left(hgError('domain', `${who}: Φ(·, λ) must be a contraction, but ${problem.name} has contraction constant q = ${q} (need 0 ≤ q < 1)`))
}

/**
 * A start vector (w₀ or v₀) of length `dim` with finite entries; zeros when absent. Returns a
 * fresh copy (the caller's vector is never held).
 */
export const checkStart = (who: string, name: string, x: RVec | undefined, dim: number): Check<Vec> => {
  if (x === undefined) return E.right(new Float64Array(dim))
  if (x.length !== dim) return E.left(hgError('dimension', `${who}: ${name} has length ${x.length}, expected ${dim}`))
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i]!)) return E.left(hgError('data', `${who}: ${name}[${i}] = ${x[i]} is not finite`))
  return E.right(Float64Array.from(x))
}

/** An optional tolerance: absent, or finite and ≥ 0. */
export const checkTolerance = (who: string, name: string, tol: number | undefined): Check<number | undefined> =>
  tol === undefined || (Number.isFinite(tol) && tol >= 0)
    ? E.right(tol)
    : E.left(hgError('domain', `${who}: ${name} must be finite and ≥ 0, got ${tol}`))

/** An optional positive finite number (a step, a relaxation). */
export const checkPositive = (who: string, name: string, x: number | undefined, fallback: number): Check<number> => {
  const v = x ?? fallback
  return Number.isFinite(v) && v > 0 ? E.right(v) : E.left(hgError('domain', `${who}: ${name} must be positive and finite, got ${v}`))
}

/** An optional integer seed. */
export const checkSeed = (who: string, seed: number | undefined): Check<number> => {
  const s = seed ?? 0
  return Number.isInteger(s) ? E.right(s) : E.left(hgError('domain', `${who}: seed must be an integer, got ${s}`))
}

interface WithLowerCheck {
  check(problem: BilevelProblem, steps: number): E.Either<HypergradError, void>
}
interface WithLinearCheck {
  check(shape: { readonly stochastic: boolean; readonly nSamples?: number; readonly symmetric: boolean }, steps: number): E.Either<HypergradError, void>
}

/**
 * A lower method against a problem: a stochastic method needs a stochastic problem; a method
 * that carries its own `check(problem, steps)` runs it too.
 */
export const checkLowerMethod = (who: string, m: LowerMethod, problem: BilevelProblem, steps: number): Check<void> => {
  if (m.stochastic && !isStochastic(problem))
    return E.left(hgError('config', `${who}: the stochastic lower solver ${m.name} needs a stochastic problem, but ${problem.name} has no Φ̂`))
  const own = m as LowerMethod & Partial<WithLowerCheck>
  return typeof own.check === 'function' ? own.check(problem, steps) : E.right(undefined)
}

/**
 * A linear method against the systems a problem gives: a stochastic method needs a stochastic
 * problem; a method that carries its own `check(shape, steps)` runs it (conjugate gradient
 * refuses a non-symmetric system there).
 */
export const checkLinearMethod = (who: string, m: LinearMethod, problem: BilevelProblem, steps: number): Check<void> => {
  const stochastic = isStochastic(problem)
  if (m.stochastic && !stochastic)
    return E.left(hgError('config', `${who}: the stochastic linear solver ${m.name} needs a stochastic problem, but ${problem.name} has no Φ̂`))
  const own = m as LinearMethod & Partial<WithLinearCheck>
  if (typeof own.check !== 'function') return E.right(undefined)
  const shape = stochastic ? { stochastic, nSamples: problem.nSamples, symmetric: problem.symmetric } : { stochastic, symmetric: problem.symmetric }
  const r = own.check(shape, steps)
  return E.isLeft(r) ? E.left(hgError(r.left.kind, `${who}: ${r.left.message}`)) : r
}

/** True when every entry is finite. */
export const allFinite = (x: RVec): boolean => {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}
