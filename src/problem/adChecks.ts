/**
 * What the problem builders of `ad` models (`adErmProblem`, `adFixedPointProblem`) check before
 * they build, and the small helpers they share.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'

/** The default domain of λ: the right length, every entry finite. */
export const finiteLambda = (name: string, m: number) => (lambda: RVec): E.Either<HypergradError, RVec> => {
  if (lambda.length !== m) return E.left(hgError('dimension', `${name}: λ has length ${lambda.length}, expected ${m}`))
  for (let j = 0; j < m; j++) if (!Number.isFinite(lambda[j]!)) return E.left(hgError('domain', `${name}: λ[${j}] = ${lambda[j]} is not finite`))
  return E.right(lambda)
}

/** Memoize a function of λ on its last argument (by value). */
export const lastValue = <A>(f: (lambda: RVec) => A): ((lambda: RVec) => A) => {
  let key: Float64Array | undefined
  let value: A | undefined
  return (lambda) => {
    if (key !== undefined && key.length === lambda.length && key.every((x, i) => Object.is(x, lambda[i]))) return value as A
    const v = f(lambda)
    key = Float64Array.from(lambda)
    value = v
    return v
  }
}

/** What `checkStart` checks. */
export interface StartOptions {
  readonly name: string
  /** The lengths of w and λ. */
  readonly d: number
  readonly m: number
  readonly lambda0: RVec
  readonly checkLambda: (lambda: RVec) => E.Either<HypergradError, RVec>
  /** The point where the functions are probed and the constants estimated (default 0), and the option's name. */
  readonly start: RVec | undefined
  readonly startName: string
  readonly seed: number | undefined
}

/** λ₀ (its length, then the domain), the start point (its length), the seed; the start point and the Rng. */
export const checkStart = (o: StartOptions): E.Either<HypergradError, { readonly w0: Vec; readonly rng: R.Rng }> => {
  if (o.lambda0.length !== o.m) return E.left(hgError('dimension', `${o.name}: λ₀ has length ${o.lambda0.length}, expected ${o.m}`))
  const lam = o.checkLambda(o.lambda0)
  if (E.isLeft(lam)) return lam
  const w0: Vec = o.start === undefined ? new Float64Array(o.d) : Float64Array.from(o.start)
  if (w0.length !== o.d) return E.left(hgError('dimension', `${o.name}: ${o.startName} has length ${w0.length}, expected ${o.d}`))
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) return E.left(hgError('config', `${o.name}: seed must be an integer, got ${o.seed}`))
  return E.right({ w0, rng: R.seed(o.seed ?? 0) })
}

/** The first Left among products evaluated at the start point, named by where that was. */
export const firstFailure = (name: string, where: string, probes: ReadonlyArray<E.Either<HypergradError, unknown>>): E.Either<HypergradError, void> => {
  for (const p of probes) if (E.isLeft(p)) return E.left(hgError(p.left.kind, `${name}: at ${where}: ${p.left.message}`))
  return E.right(undefined)
}

/** A constant computed at λ₀ by a function that may throw (a power iteration): its value, or a Left. */
export const atLambda0 = (name: string, what: string, f: () => number): E.Either<HypergradError, number> => {
  try {
    return E.right(f())
  } catch (e) {
    return E.left(hgError('domain', `${name}: the ${what} failed at λ₀: ${e instanceof Error ? e.message : String(e)}`))
  }
}
