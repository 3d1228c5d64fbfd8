/**
 * A scalar function ℓ(w, λ) (optionally ℓ̂(w, λ, B) on minibatches) written once with the
 * engine's operations, and every first- and second-order product of it, exact to rounding:
 *
 *   value            ℓ
 *   gradW, gradLambda  ∇_w ℓ, ∇_λ ℓ                    (reverse mode)
 *   hvp              ∇²_ww ℓ · u                        (forward-over-reverse, direction (u, 0))
 *   crossJvp         ∇²_wλ ℓ · μ   ∈ Rᵈ                 (direction (0, μ), the w-part)
 *   crossVjp         (∇²_wλ ℓ)ᵀ v = ∇²_λw ℓ · v ∈ Rᵐ     (direction (v, 0), the λ-part)
 *   hessianVector    ∇²ℓ · (u, μ) in both blocks
 *
 * Each product runs the recorded tape with the plan of its request (so an hvp computes no
 * gradient it does not need). The pure methods return `Either` and fresh arrays; the `…Into`
 * methods write into `out` and return an error or undefined, allocating nothing in steady state.
 * Errors (`Left`): a length mismatch or a non-finite entry in an argument, a bad minibatch, or
 * a point where the function is not differentiable (log of a non-positive value, …).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { Node } from './node.js'
import type { Request } from './plan.js'
import { Program } from './program.js'
import { DEP_LAMBDA, DEP_W } from './recording.js'
import { TapedFunction, Tapes, type FunctionSpec, type Recorder } from './tapes.js'

type Batch = Readonly<Int32Array>
/** Which result of a run an in-place product copies out: the adjoint (tangent) of w or λ. */
type Part = 'adjW' | 'adjL' | 'atW' | 'atL'

const VALUE: Request = { tan: 0, adj: 0, at: 0, jvp: false }
const GRAD_W: Request = { tan: 0, adj: DEP_W, at: 0, jvp: false }
const GRAD_L: Request = { tan: 0, adj: DEP_LAMBDA, at: 0, jvp: false }
const GRAD_BOTH: Request = { tan: 0, adj: DEP_W | DEP_LAMBDA, at: 0, jvp: false }
const HVP: Request = { tan: DEP_W, adj: 0, at: DEP_W, jvp: false }
const CROSS_JVP: Request = { tan: DEP_LAMBDA, adj: 0, at: DEP_W, jvp: false }
const CROSS_VJP: Request = { tan: DEP_W, adj: 0, at: DEP_LAMBDA, jvp: false }
const HESSIAN: Request = { tan: DEP_W | DEP_LAMBDA, adj: 0, at: DEP_W | DEP_LAMBDA, jvp: false }

const scalarOut = (out: Node, name: string): E.Either<HypergradError, Node> =>
  out.size === 1 ? E.right(out) : E.left(hgError('dimension', `${name}: the function must return a scalar (1×1), got ${out.rows}×${out.cols}`))

/** ℓ(w, λ) with its exact derivative products (see the module comment). */
export class ScalarFunction extends TapedFunction {
  private constructor(tapes: Tapes) {
    super(tapes)
  }

  /** @internal */
  static make(spec: FunctionSpec, fn: Recorder): E.Either<HypergradError, ScalarFunction> {
    return E.map((t: Tapes) => new ScalarFunction(t))(Tapes.make(spec, fn, scalarOut))
  }

  /**
   * Check the arguments, run the plan of `req`; the program holds the results. `dw`, `dl`: the
   * directions of w and λ (checked against d and m when given).
   */
  private exec(req: Request, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, batch: Batch | undefined): Program | HypergradError {
    const t = this.tapes
    const bad = t.checkInputs(w, lambda, dw, dl) ?? t.checkBatch(batch)
    if (bad !== undefined) return bad
    const prog = t.program(batch)
    if (!(prog instanceof Program)) return prog
    return prog.run(prog.plan(req), w, lambda, dw, dl, 1, batch ?? null) ? prog : t.runError(prog)
  }

  /** Run `req` and copy the (tangent of the) adjoint of w or λ into out. */
  private into(what: string, req: Request, part: Part, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, out: Vec, batch: Batch | undefined): HypergradError | undefined {
    const bad = this.tapes.checkOut(what, out, part === 'adjW' || part === 'atW' ? this.wSize : this.lambdaSize)
    if (bad !== undefined) return bad
    const p = this.exec(req, w, lambda, dw, dl, batch)
    if (ScalarFunction.isError(p)) return p
    const buf = part === 'adjW' ? p.adj[p.wId] : part === 'adjL' ? p.adj[p.lambdaId] : part === 'atW' ? p.adjT[p.wId] : p.adjT[p.lambdaId]
    return this.tapes.finiteResult(what, Tapes.copy(buf!, out))
  }

  private static isError(x: Program | HypergradError): x is HypergradError {
    return !(x instanceof Program)
  }

  /** ℓ(w, λ), or ℓ̂(w, λ, B) on a minibatch. */
  value(w: RVec, lambda: RVec, batch?: Batch): E.Either<HypergradError, number> {
    const p = this.exec(VALUE, w, lambda, null, null, batch)
    if (ScalarFunction.isError(p)) return E.left(p)
    const bad = this.tapes.finiteResult('the value', p.val[p.out]!)
    return bad === undefined ? E.right(p.val[p.out]![0]!) : E.left(bad)
  }

  /** ℓ, ∇_w ℓ and ∇_λ ℓ in one reverse sweep. */
  gradient(w: RVec, lambda: RVec, batch?: Batch): E.Either<HypergradError, { readonly value: number; readonly w: Vec; readonly lambda: Vec }> {
    const p = this.exec(GRAD_BOTH, w, lambda, null, null, batch)
    if (ScalarFunction.isError(p)) return E.left(p)
    const r = {
      value: p.val[p.out]![0]!,
      w: Tapes.copy(p.adj[p.wId]!, new Float64Array(this.wSize)),
      lambda: Tapes.copy(p.adj[p.lambdaId]!, new Float64Array(this.lambdaSize)),
    }
    const bad = this.tapes.finiteResult('the value', p.val[p.out]!) ?? this.tapes.finiteResult('∇_w', r.w) ?? this.tapes.finiteResult('∇_λ', r.lambda)
    return bad === undefined ? E.right(r) : E.left(bad)
  }

  /** ∇_w ℓ, fresh. */
  gradW(w: RVec, lambda: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    const out = new Float64Array(this.wSize)
    const e = this.gradWInto(w, lambda, out, batch)
    return e === undefined ? E.right(out) : E.left(e)
  }

  /** ∇_λ ℓ, fresh. */
  gradLambda(w: RVec, lambda: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    const out = new Float64Array(this.lambdaSize)
    const e = this.gradLambdaInto(w, lambda, out, batch)
    return e === undefined ? E.right(out) : E.left(e)
  }

  /** ∇²_ww ℓ · u, fresh. */
  hvp(w: RVec, lambda: RVec, u: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    const out = new Float64Array(this.wSize)
    const e = this.hvpInto(w, lambda, u, out, batch)
    return e === undefined ? E.right(out) : E.left(e)
  }

  /** ∇²_wλ ℓ · μ ∈ Rᵈ (the derivative of ∇_w ℓ along μ in λ), fresh. */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    const out = new Float64Array(this.wSize)
    const e = this.crossJvpInto(w, lambda, mu, out, batch)
    return e === undefined ? E.right(out) : E.left(e)
  }

  /** (∇²_wλ ℓ)ᵀ v ∈ Rᵐ (the derivative of ∇_λ ℓ along v in w), fresh. */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    const out = new Float64Array(this.lambdaSize)
    const e = this.crossVjpInto(w, lambda, v, out, batch)
    return e === undefined ? E.right(out) : E.left(e)
  }

  /** The full Hessian ∇²ℓ(w, λ) times (u, μ): w-part ∇²_ww u + ∇²_wλ μ, λ-part ∇²_λw u + ∇²_λλ μ. */
  hessianVector(w: RVec, lambda: RVec, u: RVec, mu: RVec, batch?: Batch): E.Either<HypergradError, { readonly w: Vec; readonly lambda: Vec }> {
    const p = this.exec(HESSIAN, w, lambda, u, mu, batch)
    if (ScalarFunction.isError(p)) return E.left(p)
    const r = {
      w: Tapes.copy(p.adjT[p.wId]!, new Float64Array(this.wSize)),
      lambda: Tapes.copy(p.adjT[p.lambdaId]!, new Float64Array(this.lambdaSize)),
    }
    const bad = this.tapes.finiteResult('∇²ℓ (u, μ)', r.w) ?? this.tapes.finiteResult('∇²ℓ (u, μ)', r.lambda)
    return bad === undefined ? E.right(r) : E.left(bad)
  }

  /** out ← ∇_w ℓ. Returns an error, or undefined. */
  gradWInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into('gradW', GRAD_W, 'adjW', w, lambda, null, null, out, batch)
  }

  /** out ← ∇_λ ℓ. */
  gradLambdaInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into('gradLambda', GRAD_L, 'adjL', w, lambda, null, null, out, batch)
  }

  /** out ← ∇²_ww ℓ · u. */
  hvpInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into('hvp', HVP, 'atW', w, lambda, u, null, out, batch)
  }

  /** out ← ∇²_wλ ℓ · μ. */
  crossJvpInto(w: RVec, lambda: RVec, mu: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into('crossJvp', CROSS_JVP, 'atW', w, lambda, null, mu, out, batch)
  }

  /** out ← (∇²_wλ ℓ)ᵀ v. */
  crossVjpInto(w: RVec, lambda: RVec, v: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into('crossVjp', CROSS_VJP, 'atL', w, lambda, v, null, out, batch)
  }
}

/**
 * Record a scalar function of (w, λ) — and of a minibatch when `nSamples` is given — once, and
 * get its exact gradients and second-order products (see `ScalarFunction`). The function
 * receives symbolic nodes w (shaped as `spec.w`), λ and a `BatchView`, and returns a 1 × 1 node.
 * A shape mismatch, a constant that is not finite, or a result that is not a scalar is a Left.
 *
 *   const f = orThrow(ad.scalarFunction({ w: 3, lambda: 1 }, (w, lam) =>
 *     ad.add(ad.sum(ad.softplus(ad.matvec(X, w))), ad.mul(ad.mul(0.5, lam), ad.dot(w, w)))))
 */
export const scalarFunction = (spec: FunctionSpec, fn: Recorder): E.Either<HypergradError, ScalarFunction> => ScalarFunction.make(spec, fn)
