/** Test helpers of the experiments: unwrap a Right, or the message of a configuration Left. */
import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'

/** Unwrap a Right, or fail the test with the Left (its message when it has one). */
export const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isRight(e)) return e.right
  const left = e.left as { readonly message?: unknown }
  throw new Error(typeof left?.message === 'string' ? left.message : `expected Right, got ${JSON.stringify(e.left)}`)
}

/** The message of a Left of kind 'config' (else fail the test). */
export const leftMessage = (e: E.Either<{ readonly kind: string; readonly message: string }, unknown>): string => {
  if (E.isRight(e)) throw new Error('expected Left')
  expect(e.left.kind).toBe('config')
  return e.left.message
}
