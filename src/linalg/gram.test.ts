import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { weightedGram } from './gram.js'
import { matMul, transpose } from './matrix.js'
import { matrix } from './types.js'

describe('weightedGram', () => {
  it('equals Xᵀ diag(d) X computed densely, for sparse and dense X', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 6 }),
        fc.infiniteStream(fc.double({ min: -2, max: 2, noNaN: true })),
        fc.infiniteStream(fc.boolean()),
        (n, p, vals, zero) => {
          const x = new Float64Array(n * p)
          const it = vals[Symbol.iterator]()
          const iz = zero[Symbol.iterator]()
          for (let k = 0; k < n * p; k++) x[k] = iz.next().value ? 0 : it.next().value
          const d = new Float64Array(n)
          for (let i = 0; i < n; i++) d[i] = it.next().value
          const X = matrix(n, p, x)
          const xCopy = Float64Array.from(x)
          const DX = matrix(n, p, x.map((v, k) => v * d[Math.floor(k / p)]!))
          const want = matMul(transpose(X), DX)
          const got = weightedGram(X, d)
          for (let k = 0; k < p * p; k++) expect(got.data[k]!).toBeCloseTo(want.data[k]!, 10)
          expect(Array.from(x)).toEqual(Array.from(xCopy))
        },
      ),
    )
  })
  it('names both shapes on a mismatch', () => {
    expect(() => weightedGram(matrix(2, 2, new Float64Array(4)), new Float64Array(3))).toThrow(/2 rows .* 3 weights/)
  })
})
