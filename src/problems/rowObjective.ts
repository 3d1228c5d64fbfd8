/**
 * The frame of the lower objectives whose data term is a fused pass over the rows of a design
 * matrix (logistic regression, data cleaning, softmax regression and its cleaning variant):
 *
 *   ℓ̂(w, λ, B) = (n/|B|)·(data term over the rows of B) + R(w, λ).
 *
 * It checks the arguments and the batch, and assembles the value, the two hot products and the
 * dense Hessian as "data term + regularizer"; a subclass supplies the row passes of its data
 * term and its regularizer R. The in-place `gradInto`/`hvpInto` allocate nothing beyond what
 * the row passes do; `grad`/`hvp` are the same products into a fresh vector.
 */
import type * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import { assertDim, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch } from '../problem/bilevel.js'
import type { LowerObjective } from '../problem/erm.js'
import { batchScale, checkInto } from './logisticRows.js'

/**
 * A lower objective with in-place, allocation-free versions of its two hot products, for the
 * solvers' fused loops. `gradInto`/`hvpInto` overwrite `out` (which must not overlap an input)
 * and return it; they agree bit for bit with `grad`/`hvp`.
 */
export interface FusedObjective extends LowerObjective {
  gradInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec
  hvpInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec
}

/** A regularizer R(w, λ) whose Hessian in w is diagonal. */
export interface DiagonalRegularizer {
  value(w: RVec, lambda: RVec): number
  /** out += ∇²_ww R · x. */
  addInto(lambda: RVec, x: RVec, out: Vec): void
  /** The diagonal entry k of ∇²_ww R. */
  at(lambda: RVec, k: number): number
}

/** R = (ρ/2)‖w‖² on Rᵈ with a fixed ρ (the data-cleaning objectives, whose λ weighs the samples). */
export const fixedRidge = (rho: number, d: number): DiagonalRegularizer => ({
  value: (w) => {
    let s = 0
    for (let k = 0; k < d; k++) s += w[k]! * w[k]!
    return 0.5 * rho * s
  },
  addInto: (_lambda, x, out) => {
    for (let k = 0; k < d; k++) out[k] = out[k]! + rho * x[k]!
  },
  at: () => rho,
})

/** A row-pass lower objective (see the module comment). */
export abstract class RowObjective implements FusedObjective {
  abstract readonly name: string
  abstract readonly dim: number
  abstract readonly hyperDim: number
  abstract readonly nSamples: number
  abstract readonly separable: boolean

  abstract checkLambda(lambda: RVec): E.Either<HypergradError, RVec>
  abstract curvature(lambda: RVec): { readonly tau: number; readonly L: number }
  abstract crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec
  abstract crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec

  /** The data term on the batch (all rows when undefined), times `scale`. */
  protected abstract dataValue(w: RVec, lambda: RVec, batch: Batch | undefined, scale: number): number
  /** out ← the gradient of the data term, times `scale`. */
  protected abstract dataGrad(w: RVec, lambda: RVec, batch: Batch | undefined, scale: number, out: Vec): void
  /** out ← the Hessian of the data term times u, times `scale`. */
  protected abstract dataHvp(w: RVec, lambda: RVec, u: RVec, batch: Batch | undefined, scale: number, out: Vec): void
  /** The dense Hessian of the data term over all rows (dim × dim, fresh). */
  protected abstract dataHessian(w: RVec, lambda: RVec): Matrix
  /** The regularizer R(w, λ). */
  protected abstract readonly reg: DiagonalRegularizer

  protected checkArgs(what: string, w: RVec, lambda: RVec): void {
    assertDim(`${this.name}.${what}: w`, this.dim, w.length)
    assertDim(`${this.name}.${what}: λ`, this.hyperDim, lambda.length)
  }

  value(w: RVec, lambda: RVec, batch?: Batch): number {
    this.checkArgs('value', w, lambda)
    const scale = batchScale(`${this.name}.value`, this.nSamples, batch)
    return this.dataValue(w, lambda, batch, scale) + this.reg.value(w, lambda)
  }

  gradInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec {
    this.checkArgs('gradInto', w, lambda)
    checkInto(`${this.name}.gradInto`, this.dim, out, [w, lambda])
    const scale = batchScale(`${this.name}.grad`, this.nSamples, batch)
    this.dataGrad(w, lambda, batch, scale, out)
    this.reg.addInto(lambda, w, out)
    return out
  }

  hvpInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec {
    this.checkArgs('hvpInto', w, lambda)
    checkInto(`${this.name}.hvpInto`, this.dim, out, [w, lambda], u)
    const scale = batchScale(`${this.name}.hvp`, this.nSamples, batch)
    this.dataHvp(w, lambda, u, batch, scale, out)
    this.reg.addInto(lambda, u, out)
    return out
  }

  grad(w: RVec, lambda: RVec, batch?: Batch): Vec {
    return this.gradInto(w, lambda, new Float64Array(this.dim), batch)
  }

  hvp(w: RVec, lambda: RVec, u: RVec, batch?: Batch): Vec {
    return this.hvpInto(w, lambda, u, new Float64Array(this.dim), batch)
  }

  /** The dense Hessian ∇²_ww ℓ(w, λ): the data term's plus R's diagonal. Fresh, symmetric. */
  hessian(w: RVec, lambda: RVec): Matrix {
    this.checkArgs('hessian', w, lambda)
    const H = this.dataHessian(w, lambda)
    const m = this.dim, h = H.data as Vec
    for (let k = 0; k < m; k++) h[k * m + k] = h[k * m + k]! + this.reg.at(lambda, k)
    return H
  }
}
