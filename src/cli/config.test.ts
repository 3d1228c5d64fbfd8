import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { decodeEstimateConfig, decodeTuneConfig } from './config.js'

const base = {
  problem: 'logistic',
  regularization: 'scalar',
  data: { train: 'train.svm', validation: 'val.svm' },
  lambda: 1.0,
  method: { name: 'aid', lower: 'gd', linear: 'cg', t: 500, k: 500 },
  seed: 0,
}
const messageOf = (u: unknown): string => {
  const r = decodeEstimateConfig(u)
  if (E.isRight(r)) throw new Error('expected a decoding error')
  return r.left.message
}

describe('estimate config', () => {
  it('decodes the contract example', () => {
    const r = decodeEstimateConfig(base)
    expect(E.isRight(r) && r.right.method.name).toBe('aid')
  })
  it('decodes MNIST data and a SID preset', () => {
    const r = decodeEstimateConfig({ ...base, data: { mnist: { nTrain: 5000, nVal: 5000, seed: 0 } }, method: { name: 'sid', preset: 'stochDec', epochs: 60 } })
    expect(E.isRight(r)).toBe(true)
  })
  it('names the field at fault, on one line', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, problem: undefined }, /^config\.problem: expected a problem .*got nothing/],
      [{ ...base, lambda: 'big' }, /^config\.lambda: /],
      [{ ...base, method: { name: 'magic' } }, /^config\.method\.name: expected a method name/],
      [{ ...base, method: { ...base.method, t: -3 } }, /^config\.method\.t: expected an integer ≥ 0, got -3/],
      [{ ...base, method: { ...base.method, linear: 'qr' } }, /^config\.method\.linear: expected a linear solver/],
      [{ ...base, data: { train: 'a' } }, /^config\.data\.validation: /],
      [{ ...base, data: { mnist: { nTrain: 0 } } }, /^config\.data\.mnist\.nTrain: expected an integer ≥ 1/],
      [{ ...base, lambda: [1, 'x'] }, /^config\.lambda/],
      [[], /^config: /],
    ]
    for (const [cfg, re] of cases) {
      const m = messageOf(cfg)
      expect(m).toMatch(re)
      expect(m).not.toContain('\n')
    }
  })
  it('tune configs need a valid outer object', () => {
    const ok = decodeTuneConfig({ ...base, outer: { optimizer: 'adam', steps: 300, stepSize: 0.05, logScale: true } })
    expect(E.isRight(ok)).toBe(true)
    const bad = [
      [{ optimizer: 'lbfgs', steps: 3, stepSize: 0.1 }, /^config\.outer\.optimizer/],
      [{ optimizer: 'gd', steps: 3, stepSize: 0 }, /^config\.outer\.stepSize: expected a positive number/],
      [{ optimizer: 'gd', steps: 3, stepSize: 0.1, bounds: [2, 1] }, /^config\.outer\.bounds/],
    ] as const
    for (const [outer, re] of bad) {
      const r = decodeTuneConfig({ ...base, outer })
      expect(E.isLeft(r) && r.left.message).toMatch(re)
    }
  })
})
