/**
 * Lower and upper objectives whose products come from the `ad` engine: the pieces of the
 * problem builders `adErmProblem` and `adFixedPointProblem`.
 *
 * The objectives implement the library's interfaces (`LowerObjective`, `UpperObjective`), whose
 * methods return vectors, not Eithers. An error of the engine maps as follows: a shape or
 * minibatch error is a programmer error and throws a RangeError (as the hand-written objectives
 * do); a point where the function is not differentiable, or a non-finite argument (a diverging
 * iterate), gives a vector of NaN, which the solvers' divergence checks report as `diverged`.
 * The builders evaluate every function at the start point before returning, so that a model
 * that fails there is a Left.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { ScalarFunction } from '../ad/scalarFunction.js'
import type { HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { Batch } from './bilevel.js'
import type { LowerObjective, UpperObjective } from './erm.js'

/** A vector result, or NaN (non-differentiable point, non-finite argument), or a RangeError (shapes). */
export const vecOrNaN = (r: E.Either<HypergradError, Vec>, n: number): Vec => {
  if (E.isRight(r)) return r.right
  if (r.left.kind === 'dimension') throw new RangeError(r.left.message)
  return new Float64Array(n).fill(Number.NaN)
}

/** As vecOrNaN, for an in-place product that returned an error or undefined. */
export const intoOrNaN = (e: HypergradError | undefined, out: Vec): Vec => {
  if (e === undefined) return out
  if (e.kind === 'dimension') throw new RangeError(e.message)
  return out.fill(Number.NaN)
}

const numOrNaN = (r: E.Either<HypergradError, number>): number => {
  if (E.isRight(r)) return r.right
  if (r.left.kind === 'dimension') throw new RangeError(r.left.message)
  return Number.NaN
}

/** The curvature bounds of a lower objective. */
export type Curvature = (lambda: RVec) => { readonly tau: number; readonly L: number }

/**
 * A LowerObjective from a recorded ℓ(w, λ, batch), with in-place `gradInto` / `hvpInto` (the
 * hot products of the solvers) that allocate nothing in steady state.
 */
export class AdLowerObjective implements LowerObjective {
  readonly dim: number
  readonly hyperDim: number
  readonly nSamples: number
  constructor(
    readonly fn: ScalarFunction,
    readonly name: string,
    readonly separable: boolean,
    private readonly check: (lambda: RVec) => E.Either<HypergradError, RVec>,
    private readonly curv: Curvature,
  ) {
    this.dim = fn.wSize
    this.hyperDim = fn.lambdaSize
    this.nSamples = fn.nSamples
  }
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    return this.check(lambda)
  }
  value(w: RVec, lambda: RVec, batch?: Batch): number {
    return numOrNaN(this.fn.value(w, lambda, batch))
  }
  grad(w: RVec, lambda: RVec, batch?: Batch): Vec {
    return this.gradInto(w, lambda, new Float64Array(this.dim), batch)
  }
  hvp(w: RVec, lambda: RVec, u: RVec, batch?: Batch): Vec {
    return this.hvpInto(w, lambda, u, new Float64Array(this.dim), batch)
  }
  /** out ← ∇_w ℓ (or its minibatch estimate). */
  gradInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec {
    return intoOrNaN(this.fn.gradWInto(w, lambda, out, batch), out)
  }
  /** out ← ∇²_ww ℓ u (or its minibatch estimate). */
  hvpInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec {
    return intoOrNaN(this.fn.hvpInto(w, lambda, u, out, batch), out)
  }
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec {
    return vecOrNaN(this.fn.crossJvp(w, lambda, mu, batch), this.dim)
  }
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec {
    return vecOrNaN(this.fn.crossVjp(w, lambda, v, batch), this.hyperDim)
  }
  curvature(lambda: RVec): { readonly tau: number; readonly L: number } {
    return this.curv(lambda)
  }
}

/** An UpperObjective from a recorded E(w, λ). */
export class AdUpperObjective implements UpperObjective {
  constructor(readonly fn: ScalarFunction) {}
  value(w: RVec, lambda: RVec): number {
    return numOrNaN(this.fn.value(w, lambda))
  }
  gradW(w: RVec, lambda: RVec): Vec {
    return vecOrNaN(this.fn.gradW(w, lambda), this.fn.wSize)
  }
  gradLambda(w: RVec, lambda: RVec): Vec {
    return vecOrNaN(this.fn.gradLambda(w, lambda), this.fn.lambdaSize)
  }
}
