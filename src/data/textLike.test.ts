import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { textLikeClasses } from './textLike.js'

describe('textLikeClasses', () => {
  const opts = { rows: 400, cols: 2000, nnzPerRow: 30, classes: 5, seed: 7 }
  const ds = orThrow(textLikeClasses(opts))
  const X = ds.X
  it('CSR rows of unit norm, about nnzPerRow entries each, labels in 0…C−1 with every class present', () => {
    expect(ds.nClasses).toBe(5)
    let stored = 0
    for (let i = 0; i < X.rows; i++) {
      let ss = 0
      for (let q = X.indptr[i]!; q < X.indptr[i + 1]!; q++) ss += X.values[q]! ** 2
      expect(Math.abs(Math.sqrt(ss) - 1)).toBeLessThan(1e-12)
      stored += X.indptr[i + 1]! - X.indptr[i]!
    }
    // Poisson(30) draws, a few merged as duplicates of popular columns: between 20 and 30 a row on average.
    expect(stored / X.rows).toBeGreaterThan(20)
    expect(stored / X.rows).toBeLessThan(30.5)
    const seen = new Set(Array.from(ds.y))
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4])
  })
  it('column frequencies are Zipf-like: the 1% most frequent columns hold a large share of the entries, most columns are rare', () => {
    const freq = new Float64Array(X.cols)
    for (let q = 0; q < X.indptr[X.rows]!; q++) freq[X.indices[q]!]! += 1
    const sorted = Array.from(freq).sort((a, b) => b - a)
    const total = sorted.reduce((a, b) => a + b, 0)
    const top = sorted.slice(0, X.cols / 100).reduce((a, b) => a + b, 0)
    // With pⱼ ∝ 1/j^0.9 over 2000 columns the top 20 carry about 30% of the mass (uniform: 1%).
    expect(top / total).toBeGreaterThan(0.2)
    expect(sorted[X.cols / 2]!).toBeLessThan(0.2 * sorted[0]! / 10)
  })
  it('the same options give the same data; another seed other data', () => {
    const again = orThrow(textLikeClasses(opts))
    expect(Array.from(again.X.values)).toEqual(Array.from(X.values))
    expect(Array.from(again.y)).toEqual(Array.from(ds.y))
    const other = orThrow(textLikeClasses({ ...opts, seed: 8 }))
    expect(Array.from(other.X.indices.slice(0, 50))).not.toEqual(Array.from(X.indices.slice(0, 50)))
  })
  it('bad options are a config error naming the option', () => {
    const msg = (o: object) => {
      const r = textLikeClasses({ ...opts, ...o })
      return E.isLeft(r) ? `${r.left.kind}: ${r.left.message}` : 'right'
    }
    expect(msg({ rows: 0 })).toBe('config: textLikeClasses: rows must be an integer ≥ 1, got 0')
    expect(msg({ classes: 1 })).toBe('config: textLikeClasses: classes must be an integer ≥ 2, got 1')
    expect(msg({ nnzPerRow: NaN })).toBe('config: textLikeClasses: nnzPerRow must be finite and > 0, got NaN')
    expect(msg({ seed: 1.5 })).toBe('config: textLikeClasses: seed must be an integer, got 1.5')
  })
})
