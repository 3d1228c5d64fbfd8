/**
 * A lower-level solver written outside the library, as a researcher writes one: Nesterov's
 * accelerated fixed-point iteration
 *
 *   yₜ = wₜ + μ (wₜ − wₜ₋₁),   wₜ₊₁ = yₜ + η (Φ(yₜ, λ) − yₜ),   w₋₁ = w₀,
 *
 * which for Φ = w − α∇ℓ is Nesterov's accelerated gradient with step ηα and momentum μ. With
 * the library's α = 2/(L + τ), ∂₁Φ has eigenvalues in [−q, q], and momentum amplifies the
 * negative ones: η = 1/2 (the default, step 1/(L + τ)) moves them into (0, 1), where the
 * iteration converges for μ ∈ [0, 1). It is
 * two pure functions over immutable states: `init` makes the state at the start, `step` the
 * next one (the state carries wₜ, wₜ₋₁, the work done and the random stream, unused here).
 * The law suite (laws/solvers.ts) runs it through the same laws as the library's own solvers.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type LowerSolver, type LowerState, type Vec } from 'hypergrad'

/** Options: the momentum μ ∈ [0, 1) and the relaxation η ∈ (0, 1] (default 1/2). */
export interface NesterovOptions {
  readonly momentum: number
  readonly eta?: number
}

/** A state: wₜ and wₜ₋₁. */
export interface NesterovState extends LowerState {
  readonly prev: Vec
}

export const nesterov = ({ momentum, eta = 0.5 }: NesterovOptions): LowerSolver<NesterovState> => ({
  kind: 'lower',
  name: `nesterov(μ=${momentum}, η=${eta})`,
  stochastic: false,
  // Refuse bad options before any work: every entry point (aid, sid, runLower, the laws) runs this.
  check: () =>
    !(momentum >= 0 && momentum < 1)
      ? E.left(hgError('domain', `nesterov: momentum μ must lie in [0, 1), got ${momentum}`))
      : !(eta > 0 && eta <= 1)
        ? E.left(hgError('domain', `nesterov: relaxation η must lie in (0, 1], got ${eta}`))
        : E.right(undefined),
  init: (_ctx, w0, rng) => {
    const w = Float64Array.from(w0)
    return { w, prev: w, iter: 0, rng, counts: { phi: 0, jacW: 0, jacLambda: 0 } }
  },
  step: ({ problem, lambda }, s) => {
    const y = new Float64Array(s.w.length)
    for (let i = 0; i < y.length; i++) y[i] = s.w[i]! + momentum * (s.w[i]! - s.prev[i]!)
    const w = problem.phi(y, lambda) // fresh: becomes wₜ₊₁ in place
    for (let i = 0; i < w.length; i++) w[i] = y[i]! + eta * (w[i]! - y[i]!)
    return { w, prev: s.w, iter: s.iter + 1, rng: s.rng, counts: { ...s.counts, phi: s.counts.phi + 1 } }
  },
})
