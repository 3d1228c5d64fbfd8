/** Gradient descent with a fixed step: x ← x − η∇̂f(x), every evaluation accepted. */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../../errors.js'
import { norm } from '../../linalg/vector.js'
import { named, requiredStep, type Label } from './options.js'
import type { OuterOptimizer } from './types.js'

export interface GdOptions {
  /** The step η > 0. */
  readonly stepSize: number
}

/** The state: how many steps were taken. */
export interface GdState {
  readonly count: number
}

export const makeGd = (opts: Partial<GdOptions>, label: Label): E.Either<HypergradError, OuterOptimizer<GdState>> =>
  E.map((eta: number): OuterOptimizer<GdState> => ({
    name: 'gd',
    init: (x0) => E.right({ state: { count: 0 }, next: { x: Float64Array.from(x0) } }),
    update: (ev, s) => {
      const g = ev.gradient
      const x = new Float64Array(g.length)
      for (let i = 0; i < g.length; i++) x[i] = ev.x[i]! + -eta * g[i]!
      return E.right({ state: { count: s.count + 1 }, accepted: true, gradNorm: norm(g), next: { x } })
    },
  }))(requiredStep(label, 'stepSize', opts.stepSize, 'gd'))

/** Gradient descent with step η (a Left when η is not a positive number). */
export const gd = (opts: GdOptions): E.Either<HypergradError, OuterOptimizer<GdState>> => makeGd(opts, named('gd'))
