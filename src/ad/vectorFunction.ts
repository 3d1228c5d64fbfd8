/**
 * A vector map Φ(w, λ) ∈ Rᵏ (optionally Φ̂(w, λ, B) on minibatches) written once with the
 * engine's operations, and its four Jacobian products, exact to rounding:
 *
 *   jvpW       ∂₁Φ u        (forward mode, direction (u, 0))
 *   jvpLambda  ∂₂Φ μ        (forward mode, direction (0, μ))
 *   vjpW       ∂₁Φᵀ v       (reverse mode, seed v)
 *   vjpLambda  ∂₂Φᵀ v
 *
 * (and `jvp`, `vjp` for both blocks at once). The result of the recorded function may have any
 * shape; its row-major flattening is the vector Φ. Errors as for `ScalarFunction`.
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
type Part = 'val' | 'tan' | 'adjW' | 'adjL'
const PART_NAMES: Readonly<Record<Part, string>> = { val: 'Φ', tan: 'the Jacobian product', adjW: '∂₁Φᵀv', adjL: '∂₂Φᵀv' }

const VALUE: Request = { tan: 0, adj: 0, at: 0, jvp: false }
const JVP_W: Request = { tan: DEP_W, adj: 0, at: 0, jvp: true }
const JVP_L: Request = { tan: DEP_LAMBDA, adj: 0, at: 0, jvp: true }
const JVP_BOTH: Request = { tan: DEP_W | DEP_LAMBDA, adj: 0, at: 0, jvp: true }
const VJP_W: Request = { tan: 0, adj: DEP_W, at: 0, jvp: false }
const VJP_L: Request = { tan: 0, adj: DEP_LAMBDA, at: 0, jvp: false }
const VJP_BOTH: Request = { tan: 0, adj: DEP_W | DEP_LAMBDA, at: 0, jvp: false }

/** Φ(w, λ) with its exact Jacobian products (see the module comment). */
export class VectorFunction extends TapedFunction {
  /** k, the length of Φ(w, λ) on the full sum (see `outSizeFor` for a minibatch). */
  readonly outSize: number

  private constructor(tapes: Tapes) {
    super(tapes)
    const full = tapes.full
    const o = full.nodes[full.out]!
    this.outSize = o.rows * o.cols
  }

  /** @internal */
  static make(spec: FunctionSpec, fn: Recorder, outSize?: number): E.Either<HypergradError, VectorFunction> {
    const check = (out: Node, name: string): E.Either<HypergradError, Node> =>
      outSize === undefined || out.size === outSize
        ? E.right(out)
        : E.left(hgError('dimension', `${name}: the function returns ${out.rows}×${out.cols} = ${out.size} entries, expected ${outSize}`))
    return E.map((t: Tapes) => new VectorFunction(t))(Tapes.make(spec, fn, check))
  }

  /** The program of a call (checking the minibatch), or an error. */
  private program(batch: Batch | undefined): Program | HypergradError {
    const bad = this.tapes.checkBatch(batch)
    if (bad !== undefined) return bad
    return this.tapes.program(batch)
  }

  /** The length of Φ on the full sum, or of Φ̂ on a minibatch of this size (when the result has one row per sample). */
  outSizeFor(batch?: Batch): number {
    const p = this.program(batch)
    if (!(p instanceof Program)) return this.outSize
    const o = p.nodes[p.out]!
    return o.rows * o.cols
  }

  private exec(p: Program, req: Request, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, seed: RVec | null, batch: Batch | undefined): HypergradError | undefined {
    const t = this.tapes
    const o = p.nodes[p.out]!
    const bad = t.checkInputs(w, lambda, dw, dl) ?? (seed === null ? undefined : t.checkVec('v', seed, o.rows * o.cols))
    if (bad !== undefined) return bad
    return p.run(p.plan(req), w, lambda, dw, dl, seed ?? 0, batch ?? null) ? undefined : t.runError(p)
  }

  /** Run a request and copy one of its results into a fresh vector. */
  private fresh(req: Request, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, seed: RVec | null, what: Part, batch: Batch | undefined): E.Either<HypergradError, Vec> {
    const p = this.program(batch)
    if (!(p instanceof Program)) return E.left(p)
    const out = new Float64Array(this.partSize(p, what))
    const e = this.runInto(p, req, w, lambda, dw, dl, seed, out, what, batch)
    return e === undefined ? E.right(out) : E.left(e)
  }

  private partSize(p: Program, what: Part): number {
    const o = p.nodes[p.out]!
    return what === 'adjW' ? this.wSize : what === 'adjL' ? this.lambdaSize : o.rows * o.cols
  }

  private runInto(p: Program, req: Request, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, seed: RVec | null, out: Vec, what: Part, batch: Batch | undefined): HypergradError | undefined {
    const bad = this.tapes.checkOut(what, out, this.partSize(p, what))
    if (bad !== undefined) return bad
    const e = this.exec(p, req, w, lambda, dw, dl, seed, batch)
    if (e !== undefined) return e
    if (what === 'val') out.set(p.val[p.out]!)
    else if (what === 'tan') {
      if (p.needTan[p.out] === 1) out.set(p.tan[p.out]!)
      else out.fill(0)
    } else Tapes.copy(what === 'adjW' ? p.adj[p.wId]! : p.adj[p.lambdaId]!, out)
    return this.tapes.finiteResult(PART_NAMES[what], out)
  }

  private into(req: Request, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, seed: RVec | null, out: Vec, what: Part, batch: Batch | undefined): HypergradError | undefined {
    const p = this.program(batch)
    return p instanceof Program ? this.runInto(p, req, w, lambda, dw, dl, seed, out, what, batch) : p
  }

  /** Φ(w, λ), fresh. */
  value(w: RVec, lambda: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(VALUE, w, lambda, null, null, null, 'val', batch)
  }
  /** ∂₁Φ u, fresh. */
  jvpW(w: RVec, lambda: RVec, u: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(JVP_W, w, lambda, u, null, null, 'tan', batch)
  }
  /** ∂₂Φ μ, fresh. */
  jvpLambda(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(JVP_L, w, lambda, null, mu, null, 'tan', batch)
  }
  /** ∂₁Φ u + ∂₂Φ μ, fresh. */
  jvp(w: RVec, lambda: RVec, u: RVec, mu: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(JVP_BOTH, w, lambda, u, mu, null, 'tan', batch)
  }
  /** ∂₁Φᵀ v, fresh. */
  vjpW(w: RVec, lambda: RVec, v: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(VJP_W, w, lambda, null, null, v, 'adjW', batch)
  }
  /** ∂₂Φᵀ v, fresh. */
  vjpLambda(w: RVec, lambda: RVec, v: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(VJP_L, w, lambda, null, null, v, 'adjL', batch)
  }
  /** ∂₁Φᵀ v and ∂₂Φᵀ v in one reverse sweep. */
  vjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): E.Either<HypergradError, { readonly w: Vec; readonly lambda: Vec }> {
    const p = this.program(batch)
    if (!(p instanceof Program)) return E.left(p)
    const e = this.exec(p, VJP_BOTH, w, lambda, null, null, v, batch)
    if (e !== undefined) return E.left(e)
    const r = {
      w: Tapes.copy(p.adj[p.wId]!, new Float64Array(this.wSize)),
      lambda: Tapes.copy(p.adj[p.lambdaId]!, new Float64Array(this.lambdaSize)),
    }
    const bad = this.tapes.finiteResult(PART_NAMES.adjW, r.w) ?? this.tapes.finiteResult(PART_NAMES.adjL, r.lambda)
    return bad === undefined ? E.right(r) : E.left(bad)
  }

  /** out ← Φ(w, λ). */
  valueInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into(VALUE, w, lambda, null, null, null, out, 'val', batch)
  }
  /** out ← ∂₁Φ u. */
  jvpWInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into(JVP_W, w, lambda, u, null, null, out, 'tan', batch)
  }
  /** out ← ∂₂Φ μ. */
  jvpLambdaInto(w: RVec, lambda: RVec, mu: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into(JVP_L, w, lambda, null, mu, null, out, 'tan', batch)
  }
  /** out ← ∂₁Φᵀ v. */
  vjpWInto(w: RVec, lambda: RVec, v: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into(VJP_W, w, lambda, null, null, v, out, 'adjW', batch)
  }
  /** out ← ∂₂Φᵀ v. */
  vjpLambdaInto(w: RVec, lambda: RVec, v: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.into(VJP_L, w, lambda, null, null, v, out, 'adjL', batch)
  }
}

/**
 * Record a vector map Φ(w, λ) (of any shape; its flattening is the vector) once, and get its
 * exact Jacobian products (see `VectorFunction`). With `outSize`, a result of another size is a
 * Left (a fixed-point map needs outSize = the length of w).
 */
export const vectorFunction = (spec: FunctionSpec & { readonly outSize?: number }, fn: Recorder): E.Either<HypergradError, VectorFunction> =>
  VectorFunction.make(spec, fn, spec.outSize)
