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
import { Tapes, type FunctionSpec, type Recorder } from './tapes.js'

type Batch = Readonly<Int32Array>

const VALUE: Request = { tan: 0, adj: 0, at: 0, jvp: false }
const JVP_W: Request = { tan: DEP_W, adj: 0, at: 0, jvp: true }
const JVP_L: Request = { tan: DEP_LAMBDA, adj: 0, at: 0, jvp: true }
const JVP_BOTH: Request = { tan: DEP_W | DEP_LAMBDA, adj: 0, at: 0, jvp: true }
const VJP_W: Request = { tan: 0, adj: DEP_W, at: 0, jvp: false }
const VJP_L: Request = { tan: 0, adj: DEP_LAMBDA, at: 0, jvp: false }
const VJP_BOTH: Request = { tan: 0, adj: DEP_W | DEP_LAMBDA, at: 0, jvp: false }

/** Φ(w, λ) with its exact Jacobian products (see the module comment). */
export class VectorFunction {
  readonly wSize: number
  readonly lambdaSize: number
  /** k, the length of Φ(w, λ). */
  readonly outSize: number
  readonly nSamples: number
  readonly name: string

  private constructor(private readonly tapes: Tapes) {
    this.wSize = tapes.wSize
    this.lambdaSize = tapes.lambdaSize
    this.nSamples = tapes.nSamples
    this.name = tapes.name
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

  private exec(req: Request, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, seed: RVec | null, batch: Batch | undefined): Program | HypergradError {
    const t = this.tapes
    const bad =
      t.checkVec('w', w, this.wSize) ??
      t.checkVec('λ', lambda, this.lambdaSize) ??
      (dw === null ? undefined : t.checkVec('the direction in w', dw, this.wSize)) ??
      (dl === null ? undefined : t.checkVec('the direction in λ', dl, this.lambdaSize)) ??
      (seed === null ? undefined : t.checkVec('v', seed, this.outSize)) ??
      t.checkBatch(batch)
    if (bad !== undefined) return bad
    const prog = t.program(batch)
    if (!(prog instanceof Program)) return prog
    return prog.run(prog.plan(req), w, lambda, dw, dl, seed ?? 0, batch ?? null) ? prog : t.runError(prog)
  }

  private into(what: string, out: Vec, n: number): HypergradError | undefined {
    if (!(out instanceof Float64Array) || out.length !== n) return hgError('dimension', `${this.name}: the output of ${what} must be a Float64Array of length ${n}`)
    return undefined
  }

  private static copy(buf: Vec, out: Vec): Vec {
    if (buf.length === out.length) out.set(buf)
    else out.fill(0)
    return out
  }

  private fresh(n: number, f: (out: Vec) => HypergradError | undefined): E.Either<HypergradError, Vec> {
    const out = new Float64Array(n)
    const e = f(out)
    return e === undefined ? E.right(out) : E.left(e)
  }

  /** Φ(w, λ), fresh. */
  value(w: RVec, lambda: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(this.outSize, (o) => this.valueInto(w, lambda, o, batch))
  }
  /** ∂₁Φ u, fresh. */
  jvpW(w: RVec, lambda: RVec, u: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(this.outSize, (o) => this.jvpWInto(w, lambda, u, o, batch))
  }
  /** ∂₂Φ μ, fresh. */
  jvpLambda(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(this.outSize, (o) => this.jvpLambdaInto(w, lambda, mu, o, batch))
  }
  /** ∂₁Φ u + ∂₂Φ μ, fresh. */
  jvp(w: RVec, lambda: RVec, u: RVec, mu: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(this.outSize, (o) => this.run(JVP_BOTH, w, lambda, u, mu, null, o, 'tan', batch))
  }
  /** ∂₁Φᵀ v, fresh. */
  vjpW(w: RVec, lambda: RVec, v: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(this.wSize, (o) => this.vjpWInto(w, lambda, v, o, batch))
  }
  /** ∂₂Φᵀ v, fresh. */
  vjpLambda(w: RVec, lambda: RVec, v: RVec, batch?: Batch): E.Either<HypergradError, Vec> {
    return this.fresh(this.lambdaSize, (o) => this.vjpLambdaInto(w, lambda, v, o, batch))
  }
  /** ∂₁Φᵀ v and ∂₂Φᵀ v in one reverse sweep. */
  vjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): E.Either<HypergradError, { readonly w: Vec; readonly lambda: Vec }> {
    const p = this.exec(VJP_BOTH, w, lambda, null, null, v, batch)
    if (!(p instanceof Program)) return E.left(p)
    return E.right({
      w: VectorFunction.copy(p.adj[p.wId]!, new Float64Array(this.wSize)),
      lambda: VectorFunction.copy(p.adj[p.lambdaId]!, new Float64Array(this.lambdaSize)),
    })
  }

  private run(req: Request, w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null, seed: RVec | null, out: Vec, what: 'val' | 'tan' | 'adjW' | 'adjL', batch: Batch | undefined): HypergradError | undefined {
    const n = what === 'adjW' ? this.wSize : what === 'adjL' ? this.lambdaSize : this.outSize
    const bad = this.into(what, out, n)
    if (bad !== undefined) return bad
    const p = this.exec(req, w, lambda, dw, dl, seed, batch)
    if (!(p instanceof Program)) return p
    if (what === 'val') out.set(p.val[p.out]!)
    else if (what === 'tan') {
      if (p.needTan[p.out] === 1) out.set(p.tan[p.out]!)
      else out.fill(0)
    } else VectorFunction.copy(what === 'adjW' ? p.adj[p.wId]! : p.adj[p.lambdaId]!, out)
    return undefined
  }

  /** out ← Φ(w, λ). */
  valueInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.run(VALUE, w, lambda, null, null, null, out, 'val', batch)
  }
  /** out ← ∂₁Φ u. */
  jvpWInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.run(JVP_W, w, lambda, u, null, null, out, 'tan', batch)
  }
  /** out ← ∂₂Φ μ. */
  jvpLambdaInto(w: RVec, lambda: RVec, mu: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.run(JVP_L, w, lambda, null, mu, null, out, 'tan', batch)
  }
  /** out ← ∂₁Φᵀ v. */
  vjpWInto(w: RVec, lambda: RVec, v: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.run(VJP_W, w, lambda, null, null, v, out, 'adjW', batch)
  }
  /** out ← ∂₂Φᵀ v. */
  vjpLambdaInto(w: RVec, lambda: RVec, v: RVec, out: Vec, batch?: Batch): HypergradError | undefined {
    return this.run(VJP_L, w, lambda, null, null, v, out, 'adjL', batch)
  }
}

/**
 * Record a vector map Φ(w, λ) (of any shape; its flattening is the vector) once, and get its
 * exact Jacobian products (see `VectorFunction`). With `outSize`, a result of another size is a
 * Left (a fixed-point map needs outSize = the length of w).
 */
export const vectorFunction = (spec: FunctionSpec & { readonly outSize?: number }, fn: Recorder): E.Either<HypergradError, VectorFunction> =>
  VectorFunction.make(spec, fn, spec.outSize)
