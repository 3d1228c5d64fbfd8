import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { weightedGram, weightedGramInto } from './gram.js'
import { cholesky, choleskyInPlace, matMul, matVec, refineSolve, transpose } from './matrix.js'
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

describe('weightedGramInto', () => {
  it('equals weightedGram bit for bit, and a reused buffer is fully overwritten', () => {
    const X = matrix(5, 3, Float64Array.of(1, 0, 2, 0, 0, 0, -1, 3, 0, 0.5, 0.5, 0.5, 0, 2, -2))
    const d1 = Float64Array.of(1, 2, 0, 0.5, 3)
    const d2 = Float64Array.of(0, 1, 1, 1, 0)
    const out = new Float64Array(9).fill(7)
    const idx = new Int32Array(3)
    const val = new Float64Array(3)
    expect(Array.from(weightedGramInto(X, d1, out, idx, val))).toEqual(Array.from(weightedGram(X, d1).data))
    expect(Array.from(weightedGramInto(X, d2, out, idx, val))).toEqual(Array.from(weightedGram(X, d2).data))
  })
})

describe('choleskyInPlace and refineSolve', () => {
  it('factor an SPD matrix in place (cholesky reads it), refuse an indefinite one, and refine a solve with a nearby factor', () => {
    const A = matrix(3, 3, Float64Array.of(4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2))
    const L = cholesky(A)!
    // L Lᵀ = A, L lower triangular.
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0
        for (let k = 0; k < 3; k++) s += L.data[i * 3 + k]! * L.data[j * 3 + k]!
        expect(s).toBeCloseTo(A.data[i * 3 + j]!, 13)
        if (j > i) expect(L.data[i * 3 + j]).toBe(0)
      }
    expect(choleskyInPlace(Float64Array.of(1, 2, 2, 1), 2)).toBe(false)
    // A factor of 1.1·A preconditions the solve of A x = b to 1e-14.
    const F = cholesky(matrix(3, 3, A.data.map((x) => 1.1 * x)))!
    const b = Float64Array.of(1, -2, 3)
    const { x, rel } = refineSolve((v) => matVec(A, v), F, b, 1e-14, 60)
    expect(rel).toBeLessThanOrEqual(1e-14)
    const ax = matVec(A, x)
    for (let i = 0; i < 3; i++) expect(ax[i]).toBeCloseTo(b[i]!, 13)
  })
})
