/**
 * MNIST digits pooled to 7 × 7 pixels (the mean of each 4 × 4 block of the 28 × 28 image): a
 * 49-dimensional input for the models whose cost grows with the input size faster than a
 * linear model's (the equilibrium model and the hyper-representation of Grazzi et al. 2020 §5).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { matrix, type Matrix } from '../linalg/types.js'
import { MNIST_N, readMnist, referencePermutation, type MnistDigits } from './mnist.js'

/** Pixels of a pooled digit. */
export const POOLED_D = 49

/** Pooled digits and their classes. */
export interface PooledDigits {
  /** n × 49: the mean of each 4 × 4 block of the 28 × 28 image. */
  readonly X: Matrix
  /** The digit (0–9) of each row. */
  readonly labels: Float64Array
}

/**
 * n digits of MNIST pooled to 7 × 7: rows offset … offset + n − 1 of the library's reference
 * shuffle (`referencePermutation`), so that disjoint offsets give disjoint digits. A 'config'
 * error when n < 1 or the rows run past the 10,000 digits; a 'data' error when the package is missing.
 */
export const mnistPooled = (n: number, offset = 0): E.Either<HypergradError, PooledDigits> => {
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(offset) && offset >= 0 && offset + n <= MNIST_N))
    return E.left(hgError('config', `mnistPooled: need integers n ≥ 1 and offset ≥ 0 with offset + n ≤ ${MNIST_N}, got n = ${n}, offset = ${offset}`))
  return E.map((all: MnistDigits) => {
    const order = referencePermutation()
    const X = new Float64Array(n * POOLED_D)
    const labels = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const src = order[offset + i]!
      labels[i] = all.digits[src]!
      for (let r = 0; r < 28; r++)
        for (let c = 0; c < 28; c++) {
          const cell = Math.floor(r / 4) * 7 + Math.floor(c / 4)
          X[i * POOLED_D + cell] = X[i * POOLED_D + cell]! + all.X.data[src * 784 + r * 28 + c]! / 16
        }
    }
    return { X: matrix(n, POOLED_D, X), labels }
  })(readMnist())
}
