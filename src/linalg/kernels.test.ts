// Every BLAS kernel against a naive loop written from its definition, with random lengths,
// strides (negative ones too) and offsets, including a block of rows of a larger matrix used
// as a view. Untouched entries of the output must stay untouched.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { axpy, copy, dot, gemv, gemvT, nrm2, scal } from './kernels.js'

const unit = fc.noBias(fc.integer({ min: -(2 ** 20), max: 2 ** 20 })).map((k) => k / 2 ** 20)
const arr = (n: number) => fc.array(unit, { minLength: n, maxLength: n }).map((a) => Float64Array.from(a))

/** A strided view: n logical entries, stride s (≠ 0), offset chosen so every index is in range, plus padding. */
const strided = fc
  .record({ n: fc.integer({ min: 0, max: 9 }), s: fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0), pad: fc.integer({ min: 0, max: 3 }) })
  .chain(({ n, s, pad }) => {
    const span = n === 0 ? 0 : (n - 1) * Math.abs(s) + 1
    const len = span + 2 * pad
    const off = s > 0 ? pad : pad + span - 1
    return arr(len).map((data) => ({ n, s, off: n === 0 ? pad : off, data }))
  })
type View = { n: number; s: number; off: number; data: Float64Array }

/** The logical indices of a view (BLAS convention: element i is at off + i·s). */
const idx = (v: { n: number; s: number; off: number }, n = v.n): number[] => Array.from({ length: n }, (_, i) => v.off + i * v.s)

/** Two views of equal logical length. */
const pair = fc.tuple(strided, strided).chain(([x, y]) => {
  const n = Math.min(x.n, y.n)
  return fc.constant([{ ...x, n }, { ...y, n }] as const)
})

const close = (a: number, b: number, scale: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-14 * (scale + 1))

describe('level-1 kernels against naive loops', () => {
  it('dot', () => {
    fc.assert(
      fc.property(pair, ([x, y]) => {
        let s = 0
        let abs = 0
        idx(x).forEach((ix, i) => {
          const t = x.data[ix]! * y.data[idx(y)[i]!]!
          s += t
          abs += Math.abs(t)
        })
        close(dot(x.n, x.data, x.s, x.off, y.data, y.s, y.off), s, abs)
      }),
    )
  })
  it('dot of length 0 is 0', () => {
    expect(dot(0, new Float64Array(2), 1, 0, new Float64Array(2), 1, 0)).toBe(0)
  })
  it('axpy writes a·x + y at the strided entries of y and nowhere else', () => {
    fc.assert(
      fc.property(pair, unit, ([x, y]: readonly [View, View], a) => {
        const yy = y.data.slice()
        const expected = y.data.slice()
        idx(y).forEach((iy, i) => (expected[iy] = y.data[iy]! + a * x.data[idx(x)[i]!]!))
        const xBefore = x.data.slice()
        const r = axpy(x.n, a, x.data, x.s, x.off, yy, y.s, y.off)
        expect(r).toBe(yy)
        expect(Array.from(yy)).toEqual(Array.from(expected))
        expect(Array.from(x.data)).toEqual(Array.from(xBefore))
      }),
    )
  })
  it('scal multiplies the strided entries only', () => {
    fc.assert(
      fc.property(strided, unit, (x, a) => {
        const xx = x.data.slice()
        const expected = x.data.slice()
        for (const i of idx(x)) expected[i] = a * x.data[i]!
        expect(scal(x.n, a, xx, x.s, x.off)).toBe(xx)
        expect(Array.from(xx)).toEqual(Array.from(expected))
      }),
    )
  })
  it('copy moves the strided entries only', () => {
    fc.assert(
      fc.property(pair, ([x, y]) => {
        const yy = y.data.slice()
        const expected = y.data.slice()
        idx(y).forEach((iy, i) => (expected[iy] = x.data[idx(x)[i]!]!))
        expect(copy(x.n, x.data, x.s, x.off, yy, y.s, y.off)).toBe(yy)
        expect(Array.from(yy)).toEqual(Array.from(expected))
      }),
    )
  })
})

describe('nrm2', () => {
  it('agrees with √Σx² on ordinary vectors', () => {
    fc.assert(
      fc.property(strided, (x) => {
        const naive = Math.sqrt(idx(x).reduce((s, i) => s + x.data[i]! ** 2, 0))
        close(nrm2(x.n, x.data, x.s, x.off), naive, naive)
      }),
    )
  })
  it('neither overflows nor underflows: nrm2(2ᵏx) = 2ᵏ nrm2(x) for k = ±1000', () => {
    fc.assert(
      fc.property(arr(6), fc.constantFrom(1000, -1000, 1020, -1020), (x, k) => {
        fc.pre(x.some((v) => v !== 0))
        const base = nrm2(6, x, 1, 0)
        const s = 2 ** k // exact: every entry times 2ᵏ stays a normal double
        const big = x.map((v) => v * s)
        const got = nrm2(6, big, 1, 0)
        expect(Number.isFinite(got) && got > 0).toBe(true)
        expect(Math.abs(got / s - base)).toBeLessThanOrEqual(1e-14 * base)
      }),
    )
  })
  it('the classic cases: (3e300, 4e300) → 5e300, (3e-300, 4e-300) → 5e-300, zeros → 0', () => {
    expect(nrm2(2, Float64Array.of(3e300, 4e300), 1, 0) / 5e300).toBeCloseTo(1, 14)
    expect(nrm2(2, Float64Array.of(3e-300, 4e-300), 1, 0) / 5e-300).toBeCloseTo(1, 14)
    expect(nrm2(3, new Float64Array(3), 1, 0)).toBe(0)
  })
})

/** A block of `m` rows and `nc` columns inside a larger row-major matrix, as (data, lda, offset). */
const block = fc
  .record({ M: fc.integer({ min: 1, max: 7 }), N: fc.integer({ min: 1, max: 7 }) })
  .chain(({ M, N }) =>
    fc.record({
      M: fc.constant(M),
      N: fc.constant(N),
      r0: fc.integer({ min: 0, max: M - 1 }),
      c0: fc.integer({ min: 0, max: N - 1 }),
      data: arr(M * N),
    }),
  )
  .chain((b) =>
    fc.record({
      b: fc.constant(b),
      m: fc.integer({ min: 0, max: b.M - b.r0 }),
      nc: fc.integer({ min: 0, max: b.N - b.c0 }),
      alpha: unit,
      beta: fc.oneof(fc.constant(0), fc.constant(1), unit),
      xs: fc.integer({ min: 1, max: 2 }),
      ys: fc.integer({ min: 1, max: 2 }),
    }),
  )

describe('gemv and gemvT on a block view of a larger matrix', () => {
  const variants = [
    ['gemv: y ← αAx + βy', gemv, false],
    ['gemvT: y ← αAᵀx + βy', gemvT, true],
  ] as const
  for (const [label, kernel, transposed] of variants)
    it(`${label} against the naive double loop`, () => {
      fc.assert(
        fc.property(block, arr(20), arr(20), ({ b, m, nc, alpha, beta, xs, ys }, x, y0) => {
          const { N, r0, c0, data } = b
          const oa = r0 * N + c0
          const y = y0.slice()
          const expected = y0.slice()
          // entry (o, q) of the applied matrix (A or Aᵀ): o indexes the output, q the input
          const [outLen, inLen] = transposed ? [nc, m] : [m, nc]
          const at = (o: number, q: number): number => (transposed ? data[oa + q * N + o]! : data[oa + o * N + q]!)
          let scale = 0
          for (let o = 0; o < outLen; o++) {
            let s = 0
            for (let q = 0; q < inLen; q++) {
              s += at(o, q) * x[1 + q * xs]!
              scale += Math.abs(at(o, q) * x[1 + q * xs]!)
            }
            expected[2 + o * ys] = alpha * s + beta * y0[2 + o * ys]!
          }
          expect(kernel(m, nc, alpha, data, N, oa, x, xs, 1, beta, y, ys, 2)).toBe(y)
          for (let k = 0; k < y.length; k++) close(y[k]!, expected[k]!, scale + Math.abs(y0[k]!))
          // entries outside the strided output are untouched, bit for bit
          const touched = new Set(Array.from({ length: outLen }, (_, o) => 2 + o * ys))
          for (let k = 0; k < y.length; k++) if (!touched.has(k)) expect(Object.is(y[k], y0[k])).toBe(true)
        }),
      )
    })
  it('β = 0 overwrites y: NaN and Infinity already in y do not leak into the result', () => {
    fc.assert(
      fc.property(block, arr(20), fc.constantFrom(NaN, Infinity, -Infinity), ({ b, m, nc, alpha }, x, bad) => {
        const { N, r0, c0, data } = b
        const oa = r0 * N + c0
        for (const [, kernel, transposed] of variants) {
          const [outLen, inLen] = transposed ? [nc, m] : [m, nc]
          const y = new Float64Array(outLen).fill(bad)
          kernel(m, nc, alpha, data, N, oa, x, 1, 0, 0, y, 1, 0)
          for (let o = 0; o < outLen; o++) {
            let s = 0
            for (let q = 0; q < inLen; q++) s += (transposed ? data[oa + q * N + o]! : data[oa + o * N + q]!) * x[q]!
            close(y[o]!, alpha * s, 20)
          }
        }
      }),
    )
  })
})
