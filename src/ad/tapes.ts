/**
 * The tapes of one user function: recorded for the full sum when the function is built, and
 * once per minibatch size on first use (at most `MAX_TAPES` sizes kept: beyond, the oldest
 * recorded is dropped), each compiled into a `Program`. Also the checks every call makes before it runs a
 * tape: lengths and finiteness of w, λ and the directions, and the minibatch indices.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import { batchView, type BatchView } from './batch.js'
import type { Node } from './node.js'
import { Program } from './program.js'
import { Recording, record } from './recording.js'

/** The shape of an input: a length (a column), or [rows, cols] (the row-major flattening). */
export type InputShape = number | readonly [number, number]

/** The inputs of a function of (w, λ). */
export interface FunctionSpec {
  /** The shape of w (the vector passed is its row-major flattening). */
  readonly w: InputShape
  /** The shape of λ. */
  readonly lambda: InputShape
  /** n, the number of samples minibatches index (default 0: the function takes no minibatch). */
  readonly nSamples?: number
  /** A name for messages (default 'ad'). */
  readonly name?: string
}

/** The user's function, called once per shape on symbolic nodes. */
export type Recorder = (w: Node, lambda: Node, batch: BatchView) => Node | number

/** Minibatch sizes whose tapes are kept. */
export const MAX_TAPES = 16

const shapeOf = (s: InputShape): readonly [number, number] => (typeof s === 'number' ? [s, 1] : s)

const validShape = (s: InputShape): boolean => {
  const [r, c] = shapeOf(s)
  return Number.isInteger(r) && Number.isInteger(c) && r >= 1 && c >= 1
}

export class Tapes {
  readonly name: string
  readonly wSize: number
  readonly lambdaSize: number
  readonly nSamples: number
  private readonly byBatch = new Map<number, Program>()

  private constructor(
    private readonly spec: FunctionSpec,
    private readonly fn: Recorder,
    /** The full-sum program. */
    readonly full: Program,
    private readonly checkResult: (out: Node, name: string) => E.Either<HypergradError, Node>,
  ) {
    this.name = spec.name ?? 'ad'
    const [wr, wc] = shapeOf(spec.w)
    const [lr, lc] = shapeOf(spec.lambda)
    this.wSize = wr * wc
    this.lambdaSize = lr * lc
    this.nSamples = spec.nSamples ?? 0
  }

  /** Record `fn` for the full sum (and check its result with `checkOut`). */
  static make(spec: FunctionSpec, fn: Recorder, checkOut: (out: Node, name: string) => E.Either<HypergradError, Node>): E.Either<HypergradError, Tapes> {
    const name = spec.name ?? 'ad'
    if (!validShape(spec.w)) return E.left(hgError('dimension', `${name}: the shape of w must be a positive integer or [rows, cols], got ${JSON.stringify(spec.w)}`))
    if (!validShape(spec.lambda)) return E.left(hgError('dimension', `${name}: the shape of λ must be a positive integer or [rows, cols], got ${JSON.stringify(spec.lambda)}`))
    const n = spec.nSamples ?? 0
    if (!(Number.isInteger(n) && n >= 0)) return E.left(hgError('config', `${name}: nSamples must be a non-negative integer, got ${n}`))
    if (typeof fn !== 'function') return E.left(hgError('config', `${name}: expected a function of (w, λ, batch)`))
    return E.map((full: Program) => new Tapes(spec, fn, full, checkOut))(Tapes.compile(spec, fn, null, checkOut))
  }

  private static compile(spec: FunctionSpec, fn: Recorder, m: number | null, checkOut: (out: Node, name: string) => E.Either<HypergradError, Node>): E.Either<HypergradError, Program> {
    const name = spec.name ?? 'ad'
    const rec = new Recording(spec.nSamples ?? 0, m)
    const [wr, wc] = shapeOf(spec.w)
    const [lr, lc] = shapeOf(spec.lambda)
    const recorded = record(rec, name, () => {
      const w = rec.leaf('w', wr, wc)
      const lambda = rec.leaf('lambda', lr, lc)
      const r = fn(w, lambda, batchView(rec))
      return typeof r === 'number' ? rec.constant(Float64Array.of(r), 1, 1) : r
    })
    if (E.isLeft(recorded)) return recorded
    const out = recorded.right
    if (out.rec !== rec) return E.left(hgError('config', `${name}: the function returned a node of another recording`))
    const checked = checkOut(out, name)
    if (E.isLeft(checked)) return checked
    const prog = new Program(rec, out.id)
    const err = prog.staticError
    if (err !== undefined) return E.left(hgError('domain', `${name}: ${err.instr.error(err.code, prog)} (in the constants)`))
    return E.right(prog)
  }

  /** The program of a call: the full sum, or the tape of this minibatch's size (recorded on first use). */
  program(batch: Readonly<Int32Array> | undefined): Program | HypergradError {
    if (batch === undefined) return this.full
    const m = batch.length
    const hit = this.byBatch.get(m)
    if (hit !== undefined) return hit
    const made = Tapes.compile(this.spec, this.fn, m, this.checkResult)
    if (E.isLeft(made)) return made.left
    if (this.byBatch.size >= MAX_TAPES) this.byBatch.delete(this.byBatch.keys().next().value!)
    this.byBatch.set(m, made.right)
    return made.right
  }

  /** Check a vector argument: its length and that every entry is finite. */
  checkVec(what: string, x: RVec, n: number): HypergradError | undefined {
    if (!(x instanceof Float64Array)) return hgError('dimension', `${this.name}: ${what} must be a Float64Array`)
    if (x.length !== n) return hgError('dimension', `${this.name}: ${what} has length ${x.length}, expected ${n}`)
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) return hgError('domain', `${this.name}: ${what}[${i}] = ${x[i]} is not finite`)
    return undefined
  }

  /** Check w, λ and the directions given (null: none) for their lengths and finiteness. */
  checkInputs(w: RVec, lambda: RVec, dw: RVec | null, dl: RVec | null): HypergradError | undefined {
    return (
      this.checkVec('w', w, this.wSize) ??
      this.checkVec('λ', lambda, this.lambdaSize) ??
      (dw === null ? undefined : this.checkVec('the direction in w', dw, this.wSize)) ??
      (dl === null ? undefined : this.checkVec('the direction in λ', dl, this.lambdaSize))
    )
  }

  /** Check an output buffer of an in-place product. */
  checkOut(what: string, out: RVec, n: number): HypergradError | undefined {
    return out instanceof Float64Array && out.length === n ? undefined : hgError('dimension', `${this.name}: the output of ${what} must be a Float64Array of length ${n}`)
  }

  /** out ← buf, or zeros when the plan never gave buf its size (a result that does not depend on the inputs). */
  static copy(buf: RVec, out: Float64Array): Float64Array {
    if (buf.length === out.length) out.set(buf)
    else out.fill(0)
    return out
  }

  /** An error when a result has a non-finite entry (an overflow inside the function: exp of a large value, say). */
  finiteResult(what: string, out: ArrayLike<number>): HypergradError | undefined {
    for (let i = 0; i < out.length; i++)
      if (!Number.isFinite(out[i]!)) return hgError('domain', `${this.name}: ${what} is not finite (entry ${i} is ${out[i]}): an overflow inside the function?`)
    return undefined
  }

  /** Check a minibatch: non-empty, integer indices in [0, n). */
  checkBatch(batch: Readonly<Int32Array> | undefined): HypergradError | undefined {
    if (batch === undefined) return undefined
    const n = this.nSamples
    if (n === 0) return hgError('config', `${this.name}: a minibatch was given, but the function was built without nSamples`)
    if (!(batch instanceof Int32Array)) return hgError('dimension', `${this.name}: a minibatch must be an Int32Array of sample indices`)
    if (batch.length === 0) return hgError('dimension', `${this.name}: empty minibatch`)
    for (let k = 0; k < batch.length; k++) {
      const i = batch[k]!
      if (!(i >= 0 && i < n)) return hgError('dimension', `${this.name}: minibatch index ${i} at position ${k} is outside [0, ${n})`)
    }
    return undefined
  }

  /** The error of a failed run, as a HypergradError. */
  runError(prog: Program): HypergradError {
    const e = prog.lastError
    return hgError('domain', `${this.name}: ${e === undefined ? 'the tape failed' : e.instr.error(e.code, prog)}`)
  }
}

/** A function of (w, λ) recorded on tapes: the sizes and name its callers read (`ScalarFunction`, `VectorFunction`). */
export abstract class TapedFunction {
  /** d, the length of w. */
  readonly wSize: number
  /** m, the length of λ. */
  readonly lambdaSize: number
  /** n, the number of samples of its minibatches (0: none). */
  readonly nSamples: number
  readonly name: string

  protected constructor(protected readonly tapes: Tapes) {
    this.wSize = tapes.wSize
    this.lambdaSize = tapes.lambdaSize
    this.nSamples = tapes.nSamples
    this.name = tapes.name
  }
}
