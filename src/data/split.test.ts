import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { csrFromDense, csrToDense, isCsr } from '../linalg/csr.js'
import { matrix } from '../linalg/types.js'
import { seed } from '../random/rng.js'
import type { Dataset } from './dataset.js'
import { corruptLabels, flipLabels, shuffleSplit, subsetRows } from './split.js'
import { checkFinite } from './validate.js'

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left: ${e.left.message}`)
  return e.right
}

/** A dataset whose row i can be recognised: X[i, j] = 10·i + j, y[i] = ±1 by a fixed pattern. */
const tagged = (n: number, p: number): Dataset => {
  const X = new Float64Array(n * p)
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) X[i * p + j] = 10 * i + j
  return { X: matrix(n, p, X), y: Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : -1)) }
}

describe('subsetRows', () => {
  it('takes the named rows in order, repeats allowed; an index out of range throws', () => {
    const ds = tagged(5, 2)
    const s = subsetRows(ds, [4, 0, 4])
    expect(Array.from(s.X.data)).toEqual([40, 41, 0, 1, 40, 41])
    expect(Array.from(s.y)).toEqual([-1, 1, -1])
    expect(() => subsetRows(ds, [5])).toThrow(RangeError)
    expect(() => subsetRows(ds, [1.5])).toThrow(RangeError)
  })
})

describe('shuffleSplit', () => {
  it('parts of the given sizes, disjoint, each row the input row it names; same rng, same split', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            sizes: fc.array(fc.integer({ min: 0, max: n }), { minLength: 1, maxLength: 4 }).filter((s) => s.reduce((a, b) => a + b, 0) <= n),
            s: fc.integer(),
          }),
        ),
        ({ n, sizes, s }) => {
          const ds = tagged(n, 3)
          const { parts, indices } = right(shuffleSplit(ds, sizes, seed(s)))
          expect(parts.map((d) => d.X.rows)).toEqual(sizes)
          const seen = new Set<number>()
          parts.forEach((d, k) => {
            indices[k]!.forEach((i, r) => {
              expect(seen.has(i)).toBe(false)
              seen.add(i)
              expect(Array.from(d.X.data.subarray(r * 3, r * 3 + 3))).toEqual([10 * i, 10 * i + 1, 10 * i + 2])
              expect(d.y[r]).toBe(ds.y[i])
            })
          })
          const again = right(shuffleSplit(ds, sizes, seed(s)))
          expect(again.indices.map((a) => Array.from(a))).toEqual(indices.map((a) => Array.from(a)))
        },
      ),
    )
  })

  it('different seeds give different orders; oversize and bad sizes are config errors', () => {
    const ds = tagged(50, 1)
    const a = right(shuffleSplit(ds, [50], seed(1))).indices[0]!
    const b = right(shuffleSplit(ds, [50], seed(2))).indices[0]!
    expect(Array.from(a)).not.toEqual(Array.from(b))
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    for (const sizes of [[30, 21], [-1], [2.5]]) {
      const r = shuffleSplit(ds, sizes, seed(0))
      expect(E.isLeft(r) && r.left.kind === 'config').toBe(true)
    }
  })
})

describe('flipLabels', () => {
  it('flips exactly round(fraction·n) labels, exactly those it reports, and nothing else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (n, f, s) => {
        const ds = tagged(n, 2)
        const before = Float64Array.from(ds.y)
        const { data, flipped } = right(flipLabels(ds, f, seed(s)))
        const k = Math.round(f * n)
        expect(flipped.length).toBe(k)
        const set = new Set(flipped)
        expect(set.size).toBe(k)
        for (let r = 1; r < k; r++) expect(flipped[r]! > flipped[r - 1]!).toBe(true)
        let changed = 0
        for (let i = 0; i < n; i++) {
          expect(data.y[i]).toBe(set.has(i) ? -before[i]! : before[i]!)
          if (data.y[i] !== before[i]) changed++
        }
        expect(changed).toBe(k)
        expect(Array.from(ds.y)).toEqual(Array.from(before)) // input untouched
        expect(Array.from(data.X.data)).toEqual(Array.from(ds.X.data))
        expect(data.X.data).not.toBe(ds.X.data)
      }),
    )
  })

  it('is seeded; halves round up; bad fractions and non-±1 labels are errors', () => {
    const ds = tagged(5, 1)
    expect(right(flipLabels(ds, 0.5, seed(9))).flipped.length).toBe(3)
    const big = tagged(200, 1)
    const a = right(flipLabels(big, 0.3, seed(1))).flipped
    expect(Array.from(right(flipLabels(big, 0.3, seed(1))).flipped)).toEqual(Array.from(a))
    expect(Array.from(right(flipLabels(big, 0.3, seed(2))).flipped)).not.toEqual(Array.from(a))
    for (const f of [-0.1, 1.5, NaN]) {
      const r = flipLabels(ds, f, seed(0))
      expect(E.isLeft(r) && r.left.kind === 'domain').toBe(true)
    }
    const r = flipLabels({ X: matrix(2, 1, Float64Array.of(0, 0)), y: Float64Array.of(1, 0) }, 0.5, seed(0))
    expect(E.isLeft(r) && r.left.kind === 'data' && r.left.message.includes('y[1]')).toBe(true)
  })
})

describe('checkFinite', () => {
  it('names the dataset and the first non-finite entry; passes finite data through', () => {
    const ds = tagged(4, 3)
    expect(right(checkFinite(ds, 'train'))).toBe(ds)
    const X = Float64Array.from(ds.X.data)
    X[2 * 3 + 1] = NaN
    X[3 * 3 + 0] = Infinity
    const r = checkFinite({ X: matrix(4, 3, X), y: ds.y }, 'train')
    expect(E.isLeft(r) && r.left.kind === 'data' && r.left.message).toBe('train: X[2, 1] is NaN')
    const ry = checkFinite({ X: ds.X, y: Float64Array.of(1, 1, -Infinity, 1) }, 'val')
    expect(E.isLeft(ry) && ry.left.message).toBe('val: y[2] is -Infinity')
    const rd = checkFinite({ X: ds.X, y: Float64Array.of(1) }, 'val')
    expect(E.isLeft(rd) && rd.left.kind).toBe('dimension')
  })
})

describe('corruptLabels', () => {
  const multi = (n: number): Dataset => ({
    X: matrix(n, 2, Float64Array.from({ length: 2 * n }, (_, k) => k)),
    y: Float64Array.from({ length: n }, (_, i) => i % 4),
    nClasses: 4,
  })
  it('changes exactly round(fraction·n) labels, each to another class, keeps X, and is seeded', () => {
    const ds = multi(50)
    const { data, corrupted } = right(corruptLabels(ds, 0.3, seed(3)))
    expect(corrupted.length).toBe(15)
    expect(data.nClasses).toBe(4)
    expect(Array.from(data.X.data)).toEqual(Array.from(ds.X.data))
    const set = new Set(corrupted)
    for (let i = 0; i < 50; i++) {
      if (set.has(i)) expect(data.y[i]).not.toBe(ds.y[i])
      else expect(data.y[i]).toBe(ds.y[i])
      expect(Number.isInteger(data.y[i]) && data.y[i]! >= 0 && data.y[i]! < 4).toBe(true)
    }
    expect(Array.from(right(corruptLabels(ds, 0.3, seed(3))).data.y)).toEqual(Array.from(data.y))
    const counts = new Map<number, number>()
    const big = multi(4000)
    const out = right(corruptLabels(big, 1, seed(5))).data.y
    for (let i = 0; i < 4000; i++) counts.set((out[i]! - big.y[i]! + 4) % 4, (counts.get((out[i]! - big.y[i]! + 4) % 4) ?? 0) + 1)
    for (const shift of [1, 2, 3]) expect(Math.abs(counts.get(shift)! / 4000 - 1 / 3)).toBeLessThan(0.04)
  })
  it('refuses a fraction outside [0, 1], a dataset without classes and a label out of range', () => {
    expect(E.isLeft(corruptLabels(multi(4), 1.5, seed(0)))).toBe(true)
    expect(E.isLeft(corruptLabels({ ...multi(4), nClasses: undefined }, 0.5, seed(0)))).toBe(true)
    const r = corruptLabels({ ...multi(4), y: Float64Array.of(0, 1, 4, 2) }, 0.5, seed(0))
    expect(E.isLeft(r) && r.left.message).toBe('corruptLabels: y[2] = 4 is not a class index in 0…3')
  })
})

describe('splits of CSR data', () => {
  it('keep the layout and nClasses, and select the same rows as on the dense layout', () => {
    const X = matrix(6, 3, Float64Array.of(1, 0, 2, 0, 0, 0, 0, 3, 0, 4, 0, 5, 0, 0, 6, 7, 8, 0))
    const dense: Dataset = { X, y: Float64Array.of(0, 1, 2, 0, 1, 2), nClasses: 3 }
    const sparse = { X: csrFromDense(X), y: dense.y, nClasses: 3 }
    const a = right(shuffleSplit(dense, [4, 2], seed(8)))
    const b = right(shuffleSplit(sparse, [4, 2], seed(8)))
    for (let k = 0; k < 2; k++) {
      expect(isCsr(b.parts[k]!.X)).toBe(true)
      expect(b.parts[k]!.nClasses).toBe(3)
      expect(Array.from(csrToDense(b.parts[k]!.X).data)).toEqual(Array.from(a.parts[k]!.X.data))
      expect(Array.from(b.parts[k]!.y)).toEqual(Array.from(a.parts[k]!.y))
    }
    expect(() => subsetRows(sparse, [0, 6])).toThrow(RangeError)
  })
})
