import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { csrFromDense, csrGemv, csrGemvT, csrMatrix, csrRows, csrToDense, designRowAxpy, designRowDot, isCsr, nnz, rowNorms } from './csr.js'
import { gemv, gemvT } from './kernels.js'
import { matrix } from './types.js'

const denseArb = fc
  .record({ rows: fc.integer({ min: 1, max: 6 }), cols: fc.integer({ min: 1, max: 6 }) })
  .chain(({ rows, cols }) =>
    fc
      .array(fc.oneof(fc.constant(0), fc.double({ min: -5, max: 5, noNaN: true })), { minLength: rows * cols, maxLength: rows * cols })
      .map((xs) => matrix(rows, cols, Float64Array.from(xs))),
  )

describe('csr', () => {
  it('round-trips dense → CSR → dense and keeps only non-zeros', () => {
    fc.assert(
      fc.property(denseArb, (A) => {
        const C = csrFromDense(A)
        expect(isCsr(C)).toBe(true)
        expect(nnz(C)).toBe(A.data.filter((x) => x !== 0).length)
        expect(Array.from(csrToDense(C).data)).toEqual(Array.from(A.data, (x) => (x === 0 ? 0 : x)))
        expect(E.isRight(csrMatrix(C.rows, C.cols, C.indptr, C.indices, C.values))).toBe(true)
      }),
    )
  })

  it('A x and Aᵀ y equal the dense products', () => {
    fc.assert(
      fc.property(denseArb, fc.integer(), (A, s) => {
        const C = csrFromDense(A)
        const x = Float64Array.from({ length: A.cols }, (_, j) => Math.sin(s + j))
        const y = Float64Array.from({ length: A.rows }, (_, i) => Math.cos(s + i))
        const ax = csrGemv(C, x, new Float64Array(A.rows))
        const aty = csrGemvT(C, y, new Float64Array(A.cols).fill(7))
        for (let i = 0; i < A.rows; i++) {
          let t = 0
          for (let j = 0; j < A.cols; j++) t += A.data[i * A.cols + j]! * x[j]!
          expect(ax[i]).toBeCloseTo(t, 12)
        }
        for (let j = 0; j < A.cols; j++) {
          let t = 0
          for (let i = 0; i < A.rows; i++) t += A.data[i * A.cols + j]! * y[i]!
          expect(aty[j]).toBeCloseTo(t, 12)
        }
      }),
    )
  })

  it('A x, Aᵀ y, row dots, row axpys and row norms give the bits of the dense kernels (zero rows and coefficients included)', () => {
    const same = (a: Float64Array, b: Float64Array): boolean => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))
    const wide = fc
      .record({ rows: fc.integer({ min: 1, max: 13 }), cols: fc.integer({ min: 1, max: 11 }) })
      .chain(({ rows, cols }) =>
        fc
          .array(fc.oneof(fc.constant(0), fc.constant(0), fc.double({ min: -5, max: 5, noNaN: true })), { minLength: rows * cols, maxLength: rows * cols })
          .map((xs) => matrix(rows, cols, Float64Array.from(xs))),
      )
    fc.assert(
      fc.property(wide, fc.integer(), (A, s) => {
        const C = csrFromDense(A)
        const x = Float64Array.from({ length: A.cols }, (_, j) => Math.sin(s + j))
        const y = Float64Array.from({ length: A.rows }, (_, i) => (i % 3 === 1 ? 0 : Math.cos(s + i)))
        expect(same(csrGemv(C, x, new Float64Array(A.rows)), gemv(A.rows, A.cols, 1, A.data, A.cols, 0, x, 1, 0, 0, new Float64Array(A.rows), 1, 0))).toBe(true)
        expect(same(csrGemvT(C, y, new Float64Array(A.cols)), gemvT(A.rows, A.cols, 1, A.data, A.cols, 0, y, 1, 0, 0, new Float64Array(A.cols), 1, 0))).toBe(true)
        expect(same(rowNorms(C), rowNorms(A))).toBe(true)
        for (let i = 0; i < A.rows; i++) {
          expect(Object.is(designRowDot(C, i, x), designRowDot(A, i, x))).toBe(true)
          expect(same(designRowAxpy(C, i, 0.3, x.slice()), designRowAxpy(A, i, 0.3, x.slice()))).toBe(true)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('selects rows in the order given', () => {
    const A = matrix(3, 3, Float64Array.of(1, 0, 2, 0, 0, 0, 0, 3, 0))
    const R = csrRows(csrFromDense(A), Int32Array.of(2, 0, 2))
    expect(Array.from(csrToDense(R).data)).toEqual([0, 3, 0, 1, 0, 2, 0, 3, 0])
  })

  it('refuses malformed arrays with a Left naming the fault', () => {
    const bad = csrMatrix(2, 3, Int32Array.of(0, 2, 3), Int32Array.of(1, 0, 2), Float64Array.of(1, 1, 1))
    expect(E.isLeft(bad) && bad.left.message).toMatch(/out of order/)
    const past = csrMatrix(1, 2, Int32Array.of(0, 1), Int32Array.of(2), Float64Array.of(1))
    expect(E.isLeft(past) && past.left.message).toMatch(/past the 2 columns/)
    const nan = csrMatrix(1, 2, Int32Array.of(0, 1), Int32Array.of(0), Float64Array.of(NaN))
    expect(E.isLeft(nan) && nan.left.message).toMatch(/not finite/)
  })
})
