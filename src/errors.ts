/**
 * The typed errors returned (as `Either`'s left) at the library boundary. Inside the library
 * a dimension mismatch between internal values is a programmer error and throws a RangeError.
 */
export type ErrorKind =
  | 'dimension' // shapes that must agree do not
  | 'domain' // a value outside its domain: negative or NaN λ, non-positive step, q ≥ 1
  | 'data' // malformed or non-finite data
  | 'config' // a configuration that cannot be decoded
  | 'schedule' // a step-size schedule that violates a theorem's conditions
  | 'divergence' // an iteration left every bound
  | 'fault' // code the library called (a user's problem, solver or observer) threw an exception

export interface HypergradError {
  readonly _tag: 'HypergradError'
  readonly kind: ErrorKind
  /** One line naming what is wrong and where. */
  readonly message: string
}

export const hgError = (kind: ErrorKind, message: string): HypergradError => ({ _tag: 'HypergradError', kind, message })

/** Throw a HypergradError as an exception (for callers who prefer throwing to Either). */
export class HypergradException extends Error {
  constructor(readonly error: HypergradError) {
    super(error.message)
    this.name = 'HypergradException'
  }
}

import * as E from 'fp-ts/lib/Either.js'
/** Unwrap an Either, throwing a HypergradException on the left. */
export const orThrow = <A>(e: E.Either<HypergradError, A>): A => {
  if (E.isLeft(e)) throw new HypergradException(e.left)
  return e.right
}
