import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { closest, didYouMean, editDistance } from './suggest.js'

/** The optimal-string-alignment distance by its recursive definition (exponential: short strings only). */
const reference = (a: string, b: string): number => {
  const memo = new Map<string, number>()
  const d = (i: number, j: number): number => {
    if (i === 0) return j
    if (j === 0) return i
    const key = `${i},${j}`
    const hit = memo.get(key)
    if (hit !== undefined) return hit
    let r = Math.min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
    if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) r = Math.min(r, d(i - 2, j - 2) + 1)
    memo.set(key, r)
    return r
  }
  return d(a.length, b.length)
}

describe('editDistance', () => {
  it('equals the recursive definition of the optimal string alignment distance', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 7 })
    fc.assert(fc.property(word, word, (a, b) => editDistance(a, b) === reference(a, b) && editDistance(a, b) === editDistance(b, a)))
  })
})

describe('closest', () => {
  const fields = ['problem', 'data', 'lambda', 'method', 'regularization', 'seed', 'rho']
  it('finds the field a typo meant', () => {
    expect(closest('regularisation', fields)).toBe('regularization')
    expect(closest('lamda', fields)).toBe('lambda')
    expect(closest('Problem', fields)).toBe('problem')
    expect(closest('methdo', fields)).toBe('method')
    expect(closest('logscale', ['logScale', 'bounds'])).toBe('logScale')
    expect(closest('bound', ['logScale', 'bounds'])).toBe('bounds')
    expect(closest('tolerence', ['tol', 'tolLower', 'tolLinear'])).toBe('tol')
    expect(closest('stepsize', ['steps', 'stepSize'])).toBe('stepSize')
  })
  it('suggests nothing far, one-letter, empty or huge', () => {
    expect(closest('colour', fields)).toBeUndefined()
    expect(closest('x', ['t', 'k'])).toBeUndefined()
    expect(closest('', fields)).toBeUndefined()
    expect(closest('l'.repeat(100_000), fields)).toBeUndefined()
    expect(didYouMean('colour', fields)).toBe('')
    expect(didYouMean('sed', fields)).toBe('; did you mean "seed"?')
  })
})
