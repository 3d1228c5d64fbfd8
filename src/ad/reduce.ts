/**
 * Sums: over every entry (a scalar), over each row (an r × 1 column: `axis: 'rows'` sums the
 * entries of each row) or over each column (a 1 × c row: `axis: 'cols'`); `mean` and `dot` on
 * top. Linear: the adjoint of a sum is its adjoint repeated over the summed entries.
 * Sums run in one fixed order, so results are deterministic.
 */
import { mul } from './elementwise.js'
import { outAdj, outAdjT, tanOrNull, type Exec, type Instr } from './instr.js'
import type { Node, Operand } from './node.js'
import { toNode } from './operand.js'
import { currentRecording, fault } from './recording.js'

/** What a sum runs over. */
export type SumAxis = 'all' | 'rows' | 'cols'

class SumInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear = false
  readonly usesBatch = false
  readonly name = 'sum'
  constructor(
    readonly out: number,
    readonly x: number,
    private readonly axis: SumAxis,
    private readonly rows: number,
    private readonly cols: number,
  ) {
    this.inputs = [x]
  }

  /** dst[target(i, j)] = Σ src(i, j). */
  private reduce(src: ArrayLike<number>, dst: Float64Array): void {
    const { rows: r, cols: c, axis } = this
    if (axis === 'all') {
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
    } else if (axis === 'rows') {
      for (let i = 0; i < r; i++) {
        let s = 0
        for (let j = 0; j < c; j++) s += src[i * c + j]!
        dst[i] = s
      }
    } else {
      dst.fill(0)
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[j] = dst[j]! + src[i * c + j]!
    }
  }

  /** dst(i, j) += src[target(i, j)]. */
  private spread(src: ArrayLike<number>, dst: Float64Array): void {
    const { rows: r, cols: c, axis } = this
    if (axis === 'all') {
      const g = src[0]!
      for (let k = 0; k < r * c; k++) dst[k] = dst[k]! + g
    } else if (axis === 'rows') {
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[i * c + j] = dst[i * c + j]! + src[i]!
    } else {
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dst[i * c + j] = dst[i * c + j]! + src[j]!
    }
  }

  fwd(s: Exec): number {
    this.reduce(s.val[this.x]!, s.val[this.out]!)
    return -1
  }
  tan(s: Exec): void {
    const dx = tanOrNull(s, this.x)
    if (dx === null) s.tan[this.out]!.fill(0)
    else this.reduce(dx, s.tan[this.out]!)
  }
  rev(s: Exec): void {
    const yb = outAdj(s, this.out), ybt = outAdjT(s, this.out)
    if (s.needAdj[this.x] === 1 && yb !== null) this.spread(yb, s.adj[this.x]!)
    if (s.needAT[this.x] === 1 && ybt !== null) this.spread(ybt, s.adjT[this.x]!)
  }
  error(): string {
    return 'ad: sum cannot fail'
  }
}

/** Σ x over every entry (1 × 1), over each row's entries (r × 1) or over each column's entries (1 × c). */
export const sum = (x: Operand, axis: SumAxis = 'all'): Node => {
  const n = toNode('sum', x)
  if (axis !== 'all' && axis !== 'rows' && axis !== 'cols') return fault('config', `ad.sum: axis must be 'all', 'rows' or 'cols', got ${String(axis)}`)
  const [r, c] = axis === 'all' ? [1, 1] : axis === 'rows' ? [n.rows, 1] : [1, n.cols]
  return currentRecording('sum').emit(r, c, [n.id], false, (out) => new SumInstr(out, n.id, axis, n.rows, n.cols))
}

/** The mean of every entry of x. */
export const mean = (x: Operand): Node => {
  const n = toNode('mean', x)
  return mul(1 / n.size, sum(n))
}

/** ⟨a, b⟩ = Σ aᵢbᵢ over entries (a and b of the same size; a column and a row of the same length are fine). */
export const dot = (a: Operand, b: Operand): Node => {
  const x = toNode('dot', a)
  const y = toNode('dot', b)
  if (x.size !== y.size) fault('dimension', `ad.dot: sizes differ: ${x.rows}×${x.cols} and ${y.rows}×${y.cols}`)
  const rec = currentRecording('dot')
  const yy = y.rows === x.rows && y.cols === x.cols ? y : rec.alias(y, x.rows, x.cols)
  return sum(mul(x, yy))
}
