import { describe, expect, it } from 'vitest'
import { csrFromDense } from '../linalg/csr.js'
import { matrix } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { dataTTimes, dataTimes, gemmStrided, type DataMatrix } from './kernels.js'

// Reference: plain triple loops on explicit index maps.
const at = (a: ArrayLike<number>, s0: number, s1: number) => (i: number, j: number): number => a[i * s0 + j * s1]!

describe('product kernels against triple loops', () => {
  const [xs, r1] = R.normals(R.seed(1), 5 * 4)
  const [mask, r2] = R.uniforms(r1, 5 * 4)
  const X = matrix(5, 4, xs.map((v, k) => (mask[k]! < 0.5 ? 0 : v)))
  const datas: ReadonlyArray<DataMatrix> = [
    { kind: 'dense', X: X.data, rows: 5, cols: 4 },
    { kind: 'csr', A: csrFromDense(X), rows: 5, cols: 4 },
  ]
  const Q = R.normals(r2, 5 * 3)[0]
  const idx = Int32Array.of(4, 0, 4, 2)
  const rowOf = (i: number, sel: Int32Array | null): number => (sel === null ? i : sel[i]!)

  // Every data layout, with and without a row selection (m rows), for a column (n = 1) and three columns.
  const cases = datas.flatMap((D) =>
    [null, idx].flatMap((sel) => [1, 3].map((n) => ({ D, sel, m: sel === null ? 5 : sel.length, n }))),
  )

  it('dataTimes: R (+)= D_B Q, every layout of Q and R, with and without a row selection', () => {
    for (const { D, sel, m, n } of cases)
      for (const [qs0, qs1] of [[n, 1], [1, 4]] as const)
        for (const [rs0, rs1] of [[n, 1], [1, m]] as const)
          for (const acc of [false, true]) {
            const R0 = Float64Array.from({ length: m * n }, (_, k) => k / 7)
            const Rk = R0.slice()
            dataTimes(D, sel, m, Q, qs0, qs1, n, Rk, rs0, rs1, acc)
            const q = at(Q, qs0, qs1)
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let s = acc ? R0[i * rs0 + j * rs1]! : 0
                for (let l = 0; l < 4; l++) s += X.data[rowOf(i, sel) * 4 + l]! * q(l, j)
                expect(Rk[i * rs0 + j * rs1]).toBeCloseTo(s, 13)
              }
          }
  })

  it('dataTTimes: R (+)= D_Bᵀ Q (a repeated row adds twice)', () => {
    for (const { D, sel, m, n } of cases)
      for (const [rs0, rs1] of [[n, 1], [1, 4]] as const)
        for (const acc of [false, true]) {
          const R0 = Float64Array.from({ length: 4 * n }, (_, k) => k / 5)
          const Rk = R0.slice()
          dataTTimes(D, sel, m, Q, n, 1, n, Rk, rs0, rs1, acc)
          for (let l = 0; l < 4; l++)
            for (let j = 0; j < n; j++) {
              let s = acc ? R0[l * rs0 + j * rs1]! : 0
              for (let i = 0; i < m; i++) s += X.data[rowOf(i, sel) * 4 + l]! * Q[i * n + j]!
              expect(Rk[l * rs0 + j * rs1]).toBeCloseTo(s, 13)
            }
        }
  })

  it('gemmStrided: every transposition of P, Q and R', () => {
    const P = R.normals(R.seed(3), 6)[0] // 2×3 or 3×2
    const Qm = R.normals(R.seed(4), 12)[0] // 3×4 or 4×3
    for (const tp of [false, true])
      for (const tq of [false, true])
        for (const tr of [false, true]) {
          const [ps0, ps1] = tp ? [1, 2] : [3, 1]
          const [qs0, qs1] = tq ? [1, 3] : [4, 1]
          const [rs0, rs1] = tr ? [1, 2] : [4, 1]
          const Rk = new Float64Array(8)
          gemmStrided(2, 4, 3, P, ps0, ps1, Qm, qs0, qs1, Rk, rs0, rs1, false)
          for (let i = 0; i < 2; i++)
            for (let j = 0; j < 4; j++) {
              let s = 0
              for (let l = 0; l < 3; l++) s += P[i * ps0 + l * ps1]! * Qm[l * qs0 + j * qs1]!
              expect(Rk[i * rs0 + j * rs1]).toBe(s)
            }
        }
  })
})
