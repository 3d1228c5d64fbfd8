/**
 * A bilevel problem from a fixed-point map written with the `ad` engine (SID eq. 1): the user
 * writes Φ(w, λ) — any contraction in w, not necessarily a gradient step: an equilibrium model
 * w ↦ tanh(Aw + Bx + c), a recurrent or graph network's state update (Grazzi et al. 2020) —
 * and E(w, λ), once; the four Jacobian products ∂₁Φu, ∂₁Φᵀv, ∂₂Φμ, ∂₂Φᵀv and ∇₁E, ∇₂E come
 * from the engine. The result is a deterministic `BilevelProblem` for aid, itd, exact, tune
 * and checkProblem.
 *
 * The contraction constant. Give `contraction(λ)`, a q_λ < 1 with ‖∂₁Φ(w, λ)‖ ≤ q_λ for every
 * w, when you know one (for tanh(Aw + …): ‖A‖₂, since |tanh'| ≤ 1). Otherwise it is estimated
 * as ‖∂₁Φ(w₀, λ)‖₂ by power iteration at `contractionAt` (default w = 0) — a local value, a
 * lower estimate of the bound over all w.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Node } from '../ad/node.js'
import { scalarFunction, type ScalarFunction } from '../ad/scalarFunction.js'
import type { InputShape } from '../ad/tapes.js'
import { vectorFunction, type VectorFunction } from '../ad/vectorFunction.js'
import { hgError, orThrow, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { atLambda0, checkStart, finiteLambda, firstFailure, lastValue } from './adChecks.js'
import { AdUpperObjective, vecOrNaN } from './adObjectives.js'
import type { BilevelProblem } from './bilevel.js'
import { contractionEstimate } from './constants.js'
import { UpperDelegate } from './erm.js'

/** Options of `adFixedPointProblem`. */
export interface AdFixedPointOptions {
  /** The shape of w: its length d, or [rows, cols] (w is the row-major flattening). */
  readonly dim: InputShape
  /** The shape of λ. */
  readonly hyperDim: InputShape
  /** Φ(w, λ), of d entries (any shape; its row-major flattening). */
  readonly phi: (w: Node, lambda: Node) => Node
  /** E(w, λ), a scalar. */
  readonly upper: (w: Node, lambda: Node) => Node | number
  /** A hyperparameter in the domain (the functions are checked there). */
  readonly lambda0: RVec
  /** q_λ < 1 with ‖∂₁Φ(w, λ)‖ ≤ q_λ for every w (default: estimated at `contractionAt`, see the module comment). */
  readonly contraction?: (lambda: RVec) => number
  /** Where the contraction is estimated when not given (default w = 0). */
  readonly contractionAt?: RVec
  /** The domain of λ (default: the right length, every entry finite). */
  readonly checkLambda?: (lambda: RVec) => E.Either<HypergradError, RVec>
  /** True only if ∂₁Φ(w, λ) is symmetric for every w, λ (then conjugate gradient applies). Default false. */
  readonly symmetric?: boolean
  /** Seed of the power iteration (default 0). */
  readonly seed?: number
  readonly name?: string
}

/** The fixed-point problem of `adFixedPointProblem`. */
export class AdFixedPointProblem extends UpperDelegate implements BilevelProblem {
  readonly dim: number
  readonly hyperDim: number
  constructor(
    readonly name: string,
    readonly symmetric: boolean,
    /** Φ, recorded. */
    readonly map: VectorFunction,
    /** E, recorded. */
    upper: ScalarFunction,
    private readonly check: (lambda: RVec) => E.Either<HypergradError, RVec>,
    private readonly q: (lambda: RVec) => number,
  ) {
    super(new AdUpperObjective(upper))
    this.dim = map.wSize
    this.hyperDim = map.lambdaSize
  }
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    return this.check(lambda)
  }
  contraction(lambda: RVec): number {
    return this.q(lambda)
  }
  phi(w: RVec, lambda: RVec): Vec {
    return vecOrNaN(this.map.value(w, lambda), this.dim)
  }
  jvpW(w: RVec, lambda: RVec, u: RVec): Vec {
    return vecOrNaN(this.map.jvpW(w, lambda, u), this.dim)
  }
  vjpW(w: RVec, lambda: RVec, v: RVec): Vec {
    return vecOrNaN(this.map.vjpW(w, lambda, v), this.dim)
  }
  jvpLambda(w: RVec, lambda: RVec, mu: RVec): Vec {
    return vecOrNaN(this.map.jvpLambda(w, lambda, mu), this.dim)
  }
  vjpLambda(w: RVec, lambda: RVec, v: RVec): Vec {
    return vecOrNaN(this.map.vjpLambda(w, lambda, v), this.hyperDim)
  }
}

/**
 * The bilevel problem of a fixed-point map Φ and an upper objective E written with the engine
 * (see the module comment). Left on a recording error (shapes; Φ not of the size of w; E not a
 * scalar), a λ₀ outside the domain, a function failing at (w₀, λ₀), or a contraction constant
 * at λ₀ that is not in [0, 1).
 */
export const adFixedPointProblem = (opts: AdFixedPointOptions): E.Either<HypergradError, AdFixedPointProblem> => {
  const name = opts.name ?? 'adFixedPoint'
  const shape = typeof opts.dim === 'number' ? [opts.dim, 1] : opts.dim
  const d = shape[0]! * shape[1]!
  const map = vectorFunction({ w: opts.dim, lambda: opts.hyperDim, outSize: d, name: `${name}.phi` }, (w, l) => opts.phi(w, l))
  if (E.isLeft(map)) return map
  const upper = scalarFunction({ w: opts.dim, lambda: opts.hyperDim, name: `${name}.upper` }, (w, l) => opts.upper(w, l))
  if (E.isLeft(upper)) return upper
  const m = map.right.lambdaSize
  const check = opts.checkLambda ?? finiteLambda(name, m)
  const start = checkStart({ name, d, m, lambda0: opts.lambda0, checkLambda: check, start: opts.contractionAt, startName: 'contractionAt', seed: opts.seed })
  if (E.isLeft(start)) return start
  const { w0, rng } = start.right
  const probed = firstFailure(name, 'w = contractionAt and λ₀', [map.right.vjp(w0, opts.lambda0, w0), map.right.jvp(w0, opts.lambda0, w0, opts.lambda0), upper.right.gradient(w0, opts.lambda0)])
  if (E.isLeft(probed)) return probed
  let problem: AdFixedPointProblem
  const q = opts.contraction ?? lastValue((lambda: RVec) => orThrow(contractionEstimate(problem, w0, lambda, rng)))
  problem = new AdFixedPointProblem(name, opts.symmetric ?? false, map.right, upper.right, check, q)
  const estimated = atLambda0(name, 'contraction estimate', () => problem.contraction(opts.lambda0))
  if (E.isLeft(estimated)) return estimated
  const q0 = estimated.right
  if (!(q0 >= 0 && q0 < 1)) return E.left(hgError('domain', `${name}: Φ(·, λ₀) must be a contraction, but its contraction constant is ${q0}`))
  return E.right(problem)
}
