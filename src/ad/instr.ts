/**
 * An instruction of a tape and the state it runs on.
 *
 * Forward-over-reverse in one picture. For y = f(x₁, …, x_k) an instruction knows
 *   fwd:  y = f(x)                                      (value)
 *   tan:  ẏ = Σᵢ ∂ᵢf · ẋᵢ                               (forward mode: the tangent along a direction)
 *   rev:  x̄ᵢ += ∂ᵢfᵀ ȳ                                  (reverse mode: the adjoint)
 *         x̄̇ᵢ += ∂ᵢfᵀ ȳ̇ + Σⱼ (∂ⱼ∂ᵢf · ẋⱼ)ᵀ ȳ              (the tangent of the adjoint)
 * so that one forward sweep (values and tangents) and one reverse sweep (adjoints and their
 * tangents) give the gradient x̄ and the Hessian-vector product x̄̇ = ∇²f · ẋ, exactly (up to
 * rounding), for any direction ẋ. A plan (`plan.ts`) says which of the four each node needs for
 * the products asked: `needTan`, `needAdj`, `needAT`; an input whose tangent is not computed is
 * treated as having tangent 0.
 */
import type { RVec, Vec } from '../linalg/types.js'

/** The buffer of a node that has none (yet): a program compares against it before allocating. */
export const EMPTY = new Float64Array(0)

/**
 * The buffers and flags an instruction reads and writes (one per compiled tape, the base of
 * `Program`): for N nodes, every buffer `EMPTY` and every flag 0 until the program sets them.
 */
export class Exec {
  /** Values, per node. Leaves and constants hold the caller's arrays: never written. */
  readonly val: Vec[]
  /** Tangents, per node (leaves: the caller's direction, never written). */
  readonly tan: Vec[]
  /** Adjoints, per node. */
  readonly adj: Vec[]
  /** Tangents of the adjoints, per node. */
  readonly adjT: Vec[]
  /** The current plan's flags, per node (1 = compute it). */
  needTan: Uint8Array
  needAdj: Uint8Array
  needAT: Uint8Array
  /** The minibatch indices of the call (null: every sample). */
  batch: Readonly<Int32Array> | null = null

  constructor(N: number) {
    this.val = new Array<Vec>(N).fill(EMPTY)
    this.tan = new Array<Vec>(N).fill(EMPTY)
    this.adj = new Array<Vec>(N).fill(EMPTY)
    this.adjT = new Array<Vec>(N).fill(EMPTY)
    this.needTan = new Uint8Array(N)
    this.needAdj = new Uint8Array(N)
    this.needAT = new Uint8Array(N)
  }
}

/** One step of a tape. */
export interface Instr {
  /** The node written. */
  readonly out: number
  /** Every node read (differentiable inputs and constant operands alike). */
  readonly inputs: ReadonlyArray<number>
  /** False when f is linear in its inputs (no second-order term). */
  readonly nonlinear: boolean
  /** True when it reads the minibatch indices. */
  readonly usesBatch: boolean
  /** For messages: `exp`, `matmul`, … */
  readonly name: string
  /** y ← f(x). Returns −1, or an error code for `error` (a point where f is not differentiable). */
  fwd(s: Exec): number
  /** ẏ ← Σ ∂ᵢf ẋᵢ (inputs whose tangent is not needed count as 0). */
  tan(s: Exec): void
  /** Adjoints and their tangents of the inputs that need them, from ȳ and ȳ̇. */
  rev(s: Exec): void
  /** The message of an error code returned by fwd. */
  error(code: number, s: Exec): string
}

/** The tangent of node i when the plan computes it, else null (tangent 0). */
export const tanOrNull = (s: Exec, i: number): Vec | null => (s.needTan[i] === 1 ? s.tan[i]! : null)

/** ȳ and ȳ̇ of an instruction's output, null where the plan does not compute them. */
export const outAdj = (s: Exec, out: number): Vec | null => (s.needAdj[out] === 1 ? s.adj[out]! : null)
export const outAdjT = (s: Exec, out: number): Vec | null => (s.needAT[out] === 1 ? s.adjT[out]! : null)

/**
 * The tangent ẋ of input x, or null when the plan computes none — and then the output's tangent
 * is set to ẏ = 0 (an input without tangent contributes nothing).
 */
export const inputTangent = (s: Exec, x: number, out: number): Vec | null => {
  const dx = tanOrNull(s, x)
  if (dx === null) s.tan[out]!.fill(0)
  return dx
}

/** A linear map y = A x, in place: A and its transpose (both may read the minibatch of `s`). */
export interface LinearMap {
  /** dst ← A src. */
  readonly apply: (src: RVec, dst: Vec, s: Exec) => void
  /** dst += Aᵀ src. */
  readonly addBack: (src: RVec, dst: Vec, s: Exec) => void
}

/**
 * The instruction y = A x of a linear map of one input (a sum, a transpose, a slice, a row
 * gather): ẏ = A ẋ, x̄ += Aᵀ ȳ and x̄̇ += Aᵀ ȳ̇ (no second-order term); it cannot fail.
 */
export class LinearInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear = false
  constructor(
    readonly out: number,
    readonly x: number,
    readonly name: string,
    readonly usesBatch: boolean,
    private readonly map: LinearMap,
  ) {
    this.inputs = [x]
  }
  fwd(s: Exec): number {
    this.map.apply(s.val[this.x]!, s.val[this.out]!, s)
    return -1
  }
  tan(s: Exec): void {
    const dx = inputTangent(s, this.x, this.out)
    if (dx !== null) this.map.apply(dx, s.tan[this.out]!, s)
  }
  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    if (s.needAdj[this.x] === 1 && yb !== null) this.map.addBack(yb, s.adj[this.x]!, s)
    if (s.needAT[this.x] === 1 && ybt !== null) this.map.addBack(ybt, s.adjT[this.x]!, s)
  }
  error(): string {
    return `ad: ${this.name} cannot fail`
  }
}
