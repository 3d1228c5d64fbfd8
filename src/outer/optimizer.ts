/**
 * First-order optimizers over the hyperparameters, as pure state transitions in the shape of
 * optax's transformations: `init(params)` makes a state, `update(grad, state, params)` returns
 * the step to add and the next state. Nothing is mutated.
 */
import type { RVec, Vec } from '../linalg/types.js'

export interface OptimizerState {
  readonly count: number
  /** First and second moment estimates (Adam); empty for gradient descent. */
  readonly m: Vec
  readonly v: Vec
}

export interface Optimizer {
  readonly name: string
  init(params: RVec): OptimizerState
  /** The update to add to the parameters, and the next state. */
  update(grad: RVec, state: OptimizerState): readonly [Vec, OptimizerState]
}

/** Gradient descent: Δ = −step·g. */
export const gradientDescent = (step: number): Optimizer => ({
  name: 'gd',
  init: () => ({ count: 0, m: new Float64Array(0), v: new Float64Array(0) }),
  update: (g, s) => {
    const d = new Float64Array(g.length)
    for (let i = 0; i < g.length; i++) d[i] = -step * g[i]!
    return [d, { ...s, count: s.count + 1 }]
  },
})

/** Adam (Kingma & Ba 2015) with bias correction. */
export const adam = (step: number, opts: { readonly beta1?: number; readonly beta2?: number; readonly eps?: number } = {}): Optimizer => {
  const b1 = opts.beta1 ?? 0.9
  const b2 = opts.beta2 ?? 0.999
  const eps = opts.eps ?? 1e-8
  return {
    name: 'adam',
    init: (p) => ({ count: 0, m: new Float64Array(p.length), v: new Float64Array(p.length) }),
    update: (g, s) => {
      const n = g.length
      const m = new Float64Array(n)
      const v = new Float64Array(n)
      const d = new Float64Array(n)
      const count = s.count + 1
      const c1 = 1 - b1 ** count
      const c2 = 1 - b2 ** count
      for (let i = 0; i < n; i++) {
        m[i] = b1 * s.m[i]! + (1 - b1) * g[i]!
        v[i] = b2 * s.v[i]! + (1 - b2) * g[i]! * g[i]!
        d[i] = (-step * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps)
      }
      return [d, { count, m, v }]
    },
  }
}
