import { describe, expect, it } from 'vitest'
import { average, drop, every, iterate, last, map, range, scan, take, takeUntil, toArray, zip } from './stream.js'

describe('stream', () => {
  it('iterate and take', () => {
    expect(toArray(take(4)(iterate(1, (x) => 2 * x)))).toEqual([1, 2, 4, 8])
  })
  it('drop, every, scan, zip, takeUntil', () => {
    const s = range(10)
    expect(toArray(drop(7)(s))).toEqual([7, 8, 9])
    expect(toArray(every(3)(s))).toEqual([0, 3, 6, 9])
    expect(toArray(scan((a: number, x: number) => a + x, 0)(take(4)(s)))).toEqual([0, 0, 1, 3, 6])
    expect(toArray(zip(range(2))(map((x: number) => x * 10)(s)))).toEqual([[0, 0], [10, 1]])
    expect(toArray(takeUntil((x: number) => x >= 2)(s))).toEqual([0, 1, 2])
    expect(last(range(0))).toBeUndefined()
  })
  it('average of vectors', () => {
    const xs = map((i: number) => Float64Array.of(i, 2 * i))(range(3))
    expect(Array.from(last(average(xs))!)).toEqual([1, 2])
  })
})
