/**
 * Sums: over every entry (a scalar), over each row (an r × 1 column: `axis: 'rows'` sums the
 * entries of each row) or over each column (a 1 × c row: `axis: 'cols'`), `mean`; and the inner
 * product `dot`. A sum is linear: its adjoint is the adjoint repeated over the summed entries.
 * Sums run in one fixed order, so results are deterministic.
 */
import { dot as kdot } from '../linalg/kernels.js'
import { mul } from './elementwise.js'
import { LinearInstr, outAdj, outAdjT, tanOrNull, type Exec, type Instr, type LinearMap } from './instr.js'
import type { Node, Operand } from './node.js'
import { toNode } from './operand.js'
import { currentRecording, fault } from './recording.js'

/** What a sum runs over. */
export type SumAxis = 'all' | 'rows' | 'cols'

/**
 * The sums of an r × c input as linear maps, by axis: `apply` writes dst[target(i, j)] = Σ src(i, j),
 * `addBack` adds src[target(i, j)] to dst(i, j).
 */
const SUM_MAPS: Readonly<Record<SumAxis, (r: number, c: number) => LinearMap>> = {
  all: (r, c) => ({
    apply: (src, dst) => {
      const n = r * c
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0
      const m = n - (n % 4)
      let k = 0
      for (; k < m; k += 4) {
        a0 += src[k]!
        a1 += src[k + 1]!
        a2 += src[k + 2]!
        a3 += src[k + 3]!
      }
      for (; k < n; k++) a0 += src[k]!
      dst[0] = (a0 + a1) + (a2 + a3)
    },
    addBack: (src, dst) => {
      const g = src[0]!
      for (let k = 0; k < r * c; k++) dst[k] = dst[k]! + g
    },
  }),
  rows: (r, c) => ({
    apply: (src, dst) => {
      for (let i = 0; i < r; i++) {
        let s = 0
        for (let j = 0; j < c; j++) s += src[i * c + j]!
        dst[i] = s
      }
    },
    addBack: (src, dst) => {
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[i * c + j] = dst[i * c + j]! + src[i]!
    },
  }),
  cols: (r, c) => ({
    apply: (src, dst) => {
      dst.fill(0)
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j] = dst[j]! + src[i * c + j]!
    },
    addBack: (src, dst) => {
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[i * c + j] = dst[i * c + j]! + src[j]!
    },
  }),
}

/** Σ x over every entry (1 × 1), over each row's entries (r × 1) or over each column's entries (1 × c). */
export const sum = (x: Operand, axis: SumAxis = 'all'): Node => {
  const n = toNode('sum', x)
  if (axis !== 'all' && axis !== 'rows' && axis !== 'cols') return fault('config', `ad.sum: axis must be 'all', 'rows' or 'cols', got ${String(axis)}`)
  const [r, c] = axis === 'all' ? [1, 1] : axis === 'rows' ? [n.rows, 1] : [1, n.cols]
  return currentRecording('sum').emit(r, c, [n.id], false, (out) => new LinearInstr(out, n.id, 'sum', false, SUM_MAPS[axis](n.rows, n.cols)))
}

/** The mean of every entry of x. */
export const mean = (x: Operand): Node => {
  const n = toNode('mean', x)
  return mul(1 / n.size, sum(n))
}

/**
 * y = ⟨a, b⟩ = Σ aₖbₖ: ẏ = ⟨ȧ, b⟩ + ⟨a, ḃ⟩, ā += ȳb, b̄ += ȳa, ā̇ += ȳ̇b + ȳḃ, b̄̇ += ȳ̇a + ȳȧ
 * (one loop each, no intermediate vector; a and b may be the same node).
 */
class DotInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear = true
  readonly usesBatch = false
  readonly name = 'dot'
  constructor(
    readonly out: number,
    readonly a: number,
    readonly b: number,
    private readonly n: number,
  ) {
    this.inputs = [a, b]
  }
  fwd(s: Exec): number {
    s.val[this.out]![0] = kdot(this.n, s.val[this.a]!, 1, 0, s.val[this.b]!, 1, 0)
    return -1
  }
  tan(s: Exec): void {
    const da = tanOrNull(s, this.a), db = tanOrNull(s, this.b)
    if (this.a === this.b) {
      s.tan[this.out]![0] = da === null ? 0 : 2 * kdot(this.n, da, 1, 0, s.val[this.a]!, 1, 0)
      return
    }
    let t = 0
    if (da !== null) t += kdot(this.n, da, 1, 0, s.val[this.b]!, 1, 0)
    if (db !== null) t += kdot(this.n, s.val[this.a]!, 1, 0, db, 1, 0)
    s.tan[this.out]![0] = t
  }
  /** dst += c·x + e·z (z may be null). */
  private static acc(n: number, dst: Float64Array, c: number, x: ArrayLike<number>, e: number, z: ArrayLike<number> | null): void {
    if (z === null || e === 0) for (let k = 0; k < n; k++) dst[k] = dst[k]! + c * x[k]!
    else for (let k = 0; k < n; k++) dst[k] = dst[k]! + (c * x[k]! + e * z[k]!)
  }
  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    const g = yb === null ? 0 : yb[0]!
    const gt = ybt === null ? 0 : ybt[0]!
    const A = s.val[this.a]!, B = s.val[this.b]!, n = this.n
    if (this.a === this.b) {
      // ⟨x, x⟩: x̄ += 2ȳx, x̄̇ += 2(ȳ̇x + ȳẋ), one loop each.
      if (yb !== null && s.needAdj[this.a] === 1) DotInstr.acc(n, s.adj[this.a]!, 2 * g, A, 0, null)
      if (s.needAT[this.a] === 1) DotInstr.acc(n, s.adjT[this.a]!, 2 * gt, A, 2 * g, tanOrNull(s, this.a))
      return
    }
    if (yb !== null) {
      if (s.needAdj[this.a] === 1) DotInstr.acc(n, s.adj[this.a]!, g, B, 0, null)
      if (s.needAdj[this.b] === 1) DotInstr.acc(n, s.adj[this.b]!, g, A, 0, null)
    }
    if (s.needAT[this.a] === 1) DotInstr.acc(n, s.adjT[this.a]!, gt, B, g, tanOrNull(s, this.b))
    if (s.needAT[this.b] === 1) DotInstr.acc(n, s.adjT[this.b]!, gt, A, g, tanOrNull(s, this.a))
  }
  error(): string {
    return 'ad: dot cannot fail'
  }
}

/** ⟨a, b⟩ = Σ aₖbₖ over entries (a and b of the same size, any shapes: a column and a row are fine). */
export const dot = (a: Operand, b: Operand): Node => {
  const x = toNode('dot', a)
  const y = toNode('dot', b)
  if (x.size !== y.size) fault('dimension', `ad.dot: sizes differ: ${x.rows}×${x.cols} and ${y.rows}×${y.cols}`)
  return currentRecording('dot').emit(1, 1, [x.id, y.id], false, (out) => new DotInstr(out, x.id, y.id, x.size))
}
