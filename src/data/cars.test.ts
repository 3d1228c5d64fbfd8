import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { CARS_FEATURES, CARS_ROWS, carsRegression, readCars } from './cars.js'

describe('the cars table of vega-datasets', () => {
  it('has 392 complete rows of 8 features; the first is the Chevrolet Chevelle Malibu of 1970', () => {
    const { X, y } = orThrow(readCars())
    expect([X.rows, X.cols, y.length]).toEqual([CARS_ROWS, CARS_FEATURES.length, CARS_ROWS])
    expect(Array.from(X.data.subarray(0, 8))).toEqual([8, 307, 130, 3504, 12, 1970, 0, 0])
    expect(y[0]).toBe(18)
  })
  it('a seeded split is standardized on its training rows, and the same seed gives the same split', () => {
    const a = orThrow(carsRegression({ nTrain: 100, nVal: 50, seed: 1 }))
    const b = orThrow(carsRegression({ nTrain: 100, nVal: 50, seed: 1 }))
    const c = orThrow(carsRegression({ nTrain: 100, nVal: 50, seed: 2 }))
    expect(a.train.X.data).toEqual(b.train.X.data)
    expect(a.train.y).not.toEqual(c.train.y)
    const p = CARS_FEATURES.length
    for (let j = 0; j < p; j++) {
      let s = 0, ss = 0
      for (let r = 0; r < 100; r++) s += a.train.X.data[r * p + j]!
      for (let r = 0; r < 100; r++) ss += (a.train.X.data[r * p + j]! - s / 100) ** 2
      expect(Math.abs(s / 100)).toBeLessThan(1e-12)
      expect(Math.sqrt(ss / 99)).toBeCloseTo(1, 12)
    }
    expect(a.train.y.reduce((t, x) => t + x, 0) / 100).toBeCloseTo(0, 12)
    expect([a.validation.X.rows, a.validation.y.length]).toEqual([50, 50])
  })
  it('refuses sizes that do not fit', () => {
    for (const [nTrain, nVal] of [[1, 5], [300, 100], [10, 0], [2.5, 3]] as const) {
      const r = carsRegression({ nTrain, nVal, seed: 0 })
      expect(E.isLeft(r) && r.left.kind).toBe('config')
    }
  })
})
