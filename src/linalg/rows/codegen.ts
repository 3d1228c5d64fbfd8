/**
 * The code generator of the row engine: the WebAssembly SIMD kernels of the fused row passes of
 * generalized linear models (see `engine.ts`), written as TypeScript that emits their bytecode
 * through `../wasmEncoder.ts`.
 *
 *   grad-type pass:  zᵢ = xᵢᵀw,               out ← Σ cᵢ xᵢ,  cᵢ = coef(zᵢ)
 *   hvp-type pass:   zᵢ = xᵢᵀw, sᵢ = xᵢᵀu,     out ← Σ cᵢ xᵢ,  cᵢ = coef(zᵢ, sᵢ)
 *
 * over the rows of a matrix (a minibatch's rows, or 0..n−1), with the block axpy of the
 * TypeScript kernels (`reference.ts`): four rows at a time, out += (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃).
 *
 * Bit for bit. Every kernel performs exactly the floating-point operations of the TypeScript
 * reference kernels, in the same order, two lanes at a time: the grad-type dot keeps the
 * reference's two accumulators (even and odd columns) as the two lanes of one f64x2 register;
 * the hvp-type dot keeps the reference's single accumulators of xᵢᵀw and xᵢᵀu as the two lanes.
 * WebAssembly arithmetic is IEEE 754 round-to-nearest without fused multiply-add, exactly as
 * JavaScript's. The kernels over compressed sparse rows skip the zeros, which changes no bit for
 * finite data (see `engine.ts`).
 */
import { F64, I32, V128, WasmCode, wasmModule, type ValType, type WasmFunction } from '../wasmEncoder.js'

// The kernels, as WebAssembly source. Each pass is two calls: the dots of all its rows into z
// (and s), then — once JavaScript has turned them into coefficients c — the block axpys. The
// result is the reference's: its dots do not depend on out, and the axpys run in its order.

class Locals {
  readonly types: ValType[] = []
  constructor(readonly nParams: number) {}
  add(t: ValType): number {
    this.types.push(t)
    return this.nParams + this.types.length - 1
  }
  /** k locals of type t, in order. */
  addN(t: ValType, k: number): number[] {
    return Array.from({ length: k }, () => this.add(t))
  }
}

/** The exported function: every parameter an i32, no results. */
const kernel = (name: string, L: Locals, c: WasmCode): WasmFunction =>
  ({ name, params: new Array<ValType>(L.nParams).fill(I32), results: [], locals: L.types, code: c })

/** for (; i < limit; i += step) body — i and limit are i32 locals. */
const forLoop = (c: WasmCode, i: number, limit: number, step: number, body: () => void): void => {
  c.block().loop().localGet(i).localGet(limit).i32GeS().brIf(1)
  body()
  c.localGet(i).i32Const(step).i32Add().localSet(i).br(0).end().end()
}

/** for (i = 0; i < limit; i += step) body. */
const forFrom0 = (c: WasmCode, i: number, limit: number, step: number, body: () => void): void => {
  c.i32Const(0).localSet(i)
  forLoop(c, i, limit, step, body)
}

/** pb = 8p (bytes per row) and pb2 = 8·(p rounded down to even). */
const rowBytes = (c: WasmCode, p: number, pb: number, pb2: number): void => {
  c.localGet(p).i32Const(3).i32Shl().localSet(pb)
  c.localGet(p).i32Const(-2).i32And().i32Const(3).i32Shl().localSet(pb2)
}

/** pb and pb2 from p (see rowBytes), then out[0..pb) ← 0. */
const zeroOut = (c: WasmCode, p: number, out: number, jb: number, pb: number, pb2: number): void => {
  rowBytes(c, p, pb, pb2)
  forFrom0(c, jb, pb, 8, () => c.localGet(out).localGet(jb).i32Add().f64Zero().f64Store())
}

/** Address of element k of an array of 8-byte values at base: base + 8k. */
const at8 = (c: WasmCode, base: number, k: number): WasmCode => c.localGet(base).localGet(k).i32Const(3).i32Shl().i32Add()
/** Address of element k of an array of 4-byte values at base: base + 4k. */
const at4 = (c: WasmCode, base: number, k: number): WasmCode => c.localGet(base).localGet(k).i32Const(2).i32Shl().i32Add()

/** dst ← the i32 at base + 4k + off. */
const load4 = (c: WasmCode, dst: number, base: number, k: number, off = 0): void => {
  at4(c, base, k).i32Load(off).localSet(dst)
}

/** dst ← a < b ? a : b (signed). */
const minTo = (c: WasmCode, a: number, b: number, dst: number): void => {
  c.localGet(a).localGet(b).localGet(a).localGet(b).i32LtS().select().localSet(dst)
}

/** row ← idx[k] (the i32 at byte off past idx + 4k), [q, qe) ← [rowPtr[row], rowPtr[row + 1]): the row's entries. */
const rowRange = (c: WasmCode, idx: number, k: number, rp: number, row: number, q: number, qe: number, off = 0): void => {
  load4(c, row, idx, k, off)
  load4(c, q, rp, row)
  load4(c, qe, rp, row, 4)
}

/**
 * Row r of a block of four rows k..k+3: its entries [q, qe) (see rowRange); a row past m gets
 * an empty range. `pushLeft` pushes m − k.
 */
const blockRowRange = (c: WasmCode, r: number, pushLeft: () => void, idx: number, k: number, rp: number, row: number, q: number, qe: number): void => {
  if (r > 0) {
    pushLeft()
    c.i32Const(r).i32GtS().if()
  }
  rowRange(c, idx, k, rp, row, q, qe, 4 * r)
  if (r > 0) c.else().i32Const(0).localSet(q).i32Const(0).localSet(qe).end()
}

/**
 * acc += val[q]·vec[col[q]] (q, acc: locals; val, col, vec: base addresses in locals): in f64,
 * or with `pairs` in f64x2, the entry in both lanes times the column's pair [a_j, b_j] (vec then
 * holds 16 bytes per column).
 */
const gatherStep = (c: WasmCode, acc: number, val: number, col: number, vec: number, q: number, pairs = false): void => {
  c.localGet(acc)
  at8(c, val, q)
  if (pairs) c.v128Load64Splat()
  else c.f64Load()
  c.localGet(vec)
  at4(c, col, q).i32Load().i32Const(pairs ? 4 : 3).i32Shl().i32Add()
  if (pairs) c.v128Load().f64x2Mul().f64x2Add()
  else c.f64Load().f64Mul().f64Add()
  c.localSet(acc)
}

/** The hvp-type dots of row k + off/8 from its accumulator: z[k] = lane 0, s[k] = lane 1 (off in bytes). */
const storeLanes = (c: WasmCode, z: number, s: number, k: number, acc: number, off: number): void => {
  at8(c, z, k).localGet(acc).f64x2ExtractLane(0).f64Store(off)
  at8(c, s, k).localGet(acc).f64x2ExtractLane(1).f64Store(off)
}

/** The grad-type dot of row k + off/8 from its accumulator: z[k] = lane 0 + lane 1 (off in bytes). */
const storeSum = (c: WasmCode, z: number, k: number, acc: number, off: number): void => {
  at8(c, z, k).localGet(acc).f64x2ExtractLane(0).localGet(acc).f64x2ExtractLane(1).f64Add().f64Store(off)
}

/** for (; q < end; q++) out[col[q]] += cs·val[q] — one row scattered into out. */
const scatterRow = (c: WasmCode, out: number, col: number, val: number, q: number, end: number, cs: number, addr: number): void => {
  forLoop(c, q, end, 1, () => {
    c.localGet(out)
    at4(c, col, q).i32Load().i32Const(3).i32Shl().i32Add().localSet(addr)
    c.localGet(addr).localGet(addr).f64Load().localGet(cs)
    at8(c, val, q).f64Load().f64Mul().f64Add().f64Store()
  })
}

/**
 * A dense kernel under construction: its locals (the first after the parameters: the block
 * index K, the column byte JB, pb and pb2 as set by rowBytes, and the four row offsets O of a
 * block) and its code.
 */
interface Dense {
  readonly L: Locals
  readonly c: WasmCode
  readonly K: number
  readonly JB: number
  readonly PB: number
  readonly PB2: number
  readonly O: ReadonlyArray<number>
}

const dense = (nParams: number): Dense => {
  const L = new Locals(nParams)
  const K = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32)
  return { L, K, JB, PB, PB2, O: L.addN(I32, 4), c: new WasmCode() }
}

/**
 * for (k = 0; k < m; k += 4): the block's row offsets o_r = x + idx[k + r]·pb, or o₀ when
 * r ≥ m − k, then body.
 */
const denseBlocks = (f: Dense, m: number, idx: number, x: number, body: () => void): void => {
  const { c, K, O, PB } = f
  forFrom0(c, K, m, 4, () => {
    for (let r = 0; r < 4; r++) {
      c.localGet(x).localGet(idx).localGet(K).i32Const(2).i32Shl().i32Add().i32Load(4 * r).localGet(PB).i32Mul().i32Add()
      if (r > 0) c.localGet(O[0]!).localGet(m).localGet(K).i32Sub().i32Const(r).i32GtS().select()
      c.localSet(O[r]!)
    }
    body()
  })
}

/**
 * The column loop of a dense dot block: the accumulators A to zero, then for (jb = 0; jb < limit;
 * jb += step) { wv ← loadW(); A_r += row r at jb · wv }, row r's bytes read by v128.load (two
 * columns) or, when `splat`, by v128.load64_splat (one column in both lanes).
 */
const denseDotColumns = (f: Dense, A: ReadonlyArray<number>, WV: number, limit: number, step: number, loadW: () => void, splat: boolean): void => {
  const { c, JB, O } = f
  for (const a of A) c.v128Zero().localSet(a)
  forFrom0(c, JB, limit, step, () => {
    loadW()
    c.localSet(WV)
    for (let r = 0; r < 4; r++) {
      c.localGet(A[r]!).localGet(O[r]!).localGet(JB).i32Add()
      if (splat) c.v128Load64Splat()
      else c.v128Load()
      c.localGet(WV).f64x2Mul().f64x2Add().localSet(A[r]!)
    }
  })
}

/**
 * gradDotsDense(m, p, idx, w, z, x): z[k] = x_{idx[k]}ᵀw for k < m over the dense rows, four
 * rows at a time; lane 0 sums the even columns and lane 1 the odd ones (the reference's two
 * accumulators), then z = lane 0 + lane 1. Writes z[k] for k < m rounded up to a multiple of 4.
 */
const gradDotsDense = (): WasmFunction => {
  const [M, P, IDX, W, Z, X] = [0, 1, 2, 3, 4, 5]
  const f = dense(6)
  const { L, c, K, JB, PB, PB2, O } = f
  const A = L.addN(V128, 4), WV = L.add(V128)
  rowBytes(c, P, PB, PB2)
  denseBlocks(f, M, IDX, X, () => {
    denseDotColumns(f, A, WV, PB2, 16, () => c.localGet(W).localGet(JB).i32Add().v128Load(), false)
    c.localGet(PB2).localGet(PB).i32LtS().if()
    for (let r = 0; r < 4; r++)
      c.localGet(A[r]!).localGet(A[r]!).f64x2ExtractLane(0)
        .localGet(O[r]!).localGet(JB).i32Add().f64Load().localGet(W).localGet(JB).i32Add().f64Load().f64Mul().f64Add()
        .f64x2ReplaceLane(0).localSet(A[r]!)
    c.end()
    for (let r = 0; r < 4; r++) storeSum(c, Z, K, A[r]!, 8 * r)
  })
  return kernel('gradDotsDense', L, c)
}

/**
 * hvpDotsDense(m, p, idx, w, u, z, s, x): z[k] = x_{idx[k]}ᵀw and s[k] = x_{idx[k]}ᵀu, column
 * by column (lane 0 and lane 1 of x_j·[w_j, u_j]), four rows at a time.
 */
const hvpDotsDense = (): WasmFunction => {
  const [M, P, IDX, W, U, Z, S, X] = [0, 1, 2, 3, 4, 5, 6, 7]
  const f = dense(8)
  const { L, c, K, JB, PB, PB2 } = f
  const A = L.addN(V128, 4), WV = L.add(V128)
  rowBytes(c, P, PB, PB2)
  denseBlocks(f, M, IDX, X, () => {
    const loadW = (): void => {
      c.localGet(W).localGet(JB).i32Add().v128Load64Splat().localGet(U).localGet(JB).i32Add().f64Load().f64x2ReplaceLane(1)
    }
    denseDotColumns(f, A, WV, PB, 8, loadW, true)
    for (let r = 0; r < 4; r++) storeLanes(c, Z, S, K, A[r]!, 8 * r)
  })
  return kernel('hvpDotsDense', L, c)
}

/**
 * axpyDense(m, p, idx, cf, out, x): out ← Σ over blocks of (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃), with
 * c_r = cf[k + r] (cf padded with zeros past m) and x_r the dense row idx[k + r] (row idx[k] past m).
 */
const axpyDense = (): WasmFunction => {
  const [M, P, IDX, CF, OUT, X] = [0, 1, 2, 3, 4, 5]
  const f = dense(6)
  const { L, c, K, JB, PB, PB2, O } = f
  const CV = L.addN(V128, 4)
  zeroOut(c, P, OUT, JB, PB, PB2)
  denseBlocks(f, M, IDX, X, () => {
    for (let r = 0; r < 4; r++) at8(c, CF, K).v128Load64Splat(8 * r).localSet(CV[r]!)
    const term = (lane: boolean): void => {
      const load = (r: number): void => {
        c.localGet(CV[r]!)
        if (!lane) c.f64x2ExtractLane(0)
        c.localGet(O[r]!).localGet(JB).i32Add()
        if (lane) c.v128Load().f64x2Mul()
        else c.f64Load().f64Mul()
      }
      const add = (): void => {
        if (lane) c.f64x2Add()
        else c.f64Add()
      }
      load(0)
      load(1)
      add()
      load(2)
      load(3)
      add()
      add()
    }
    forFrom0(c, JB, PB2, 16, () => {
      c.localGet(OUT).localGet(JB).i32Add()
      c.localGet(OUT).localGet(JB).i32Add().v128Load()
      term(true)
      c.f64x2Add().v128Store()
    })
    c.localGet(PB2).localGet(PB).i32LtS().if()
    c.localGet(OUT).localGet(JB).i32Add()
    c.localGet(OUT).localGet(JB).i32Add().f64Load()
    term(false)
    c.f64Add().f64Store()
    c.end()
  })
  return kernel('axpyDense', L, c)
}

/**
 * rowsDots(m, idx, rowPtr, col, val, pairs, z, s, hvp): the dots of rows idx[0..m) over the
 * compressed sparse rows built from dense data (columns and values of row i at rowPtr[i]..rowPtr[i+1], in column
 * order). pairs holds [a_j, b_j] per column and each row accumulates x·[a_j, b_j] over its
 * non-zeros, in column order. Grad-type (hvp = 0): a = w on even columns and 0 on odd ones, b
 * the other way round — the reference's two accumulators (adding x·0 = ±0 changes nothing) —
 * and z = lane 0 + lane 1. Hvp-type (hvp = 1): [a, b] = [w, u], z = lane 0, s = lane 1. Four
 * rows go together over the length of the shortest, so that their four sums (each a chain of
 * dependent adds) overlap; each row then finishes alone. The order within each row is
 * unchanged.
 */
const rowsDots = (): WasmFunction => {
  const [M, IDX, RP, COL, VAL, PAIRS, Z, S, HV] = [0, 1, 2, 3, 4, 5, 6, 7, 8]
  const L = new Locals(9)
  const K = L.add(I32), ROW = L.add(I32), T = L.add(I32), MN = L.add(I32), LEFT = L.add(I32), TMP = L.add(I32)
  const Q = L.addN(I32, 4), QE = L.addN(I32, 4), ACC = L.addN(V128, 4)
  const c = new WasmCode()
  const step = (acc: number, q: number): void => gatherStep(c, acc, VAL, COL, PAIRS, q, true)
  forFrom0(c, K, M, 4, () => {
    c.localGet(M).localGet(K).i32Sub().localSet(LEFT)
    for (let r = 0; r < 4; r++) {
      blockRowRange(c, r, () => c.localGet(LEFT), IDX, K, RP, ROW, Q[r]!, QE[r]!)
      c.v128Zero().localSet(ACC[r]!)
    }
    // MN = the shortest length among the rows present (0 when the block is partial).
    c.localGet(QE[0]!).localGet(Q[0]!).i32Sub().localSet(MN)
    for (let r = 1; r < 4; r++) {
      c.localGet(QE[r]!).localGet(Q[r]!).i32Sub().localSet(TMP)
      minTo(c, TMP, MN, MN)
    }
    forFrom0(c, T, MN, 1, () => {
      for (let r = 0; r < 4; r++) {
        c.localGet(Q[r]!).localGet(T).i32Add().localSet(TMP)
        step(ACC[r]!, TMP)
      }
    })
    for (let r = 0; r < 4; r++) {
      c.localGet(Q[r]!).localGet(MN).i32Add().localSet(TMP)
      forLoop(c, TMP, QE[r]!, 1, () => step(ACC[r]!, TMP))
      if (r > 0) c.localGet(LEFT).i32Const(r).i32GtS().if()
      c.localGet(HV).if()
      storeLanes(c, Z, S, K, ACC[r]!, 8 * r)
      c.else()
      storeSum(c, Z, K, ACC[r]!, 8 * r)
      c.end()
      if (r > 0) c.end()
    }
  })
  return kernel('rowsDots', L, c)
}

/**
 * rowsDotsPairs(m, idx, rowPtr, col, val, pairs, z, s): the hvp-type dots of rows idx[0..m)
 * over the compressed sparse rows (columns and values of row i at rowPtr[i]..rowPtr[i+1], in
 * column order). pairs holds [w_j, u_j] per column and each row accumulates x·[w_j, u_j] in the
 * two lanes of one f64x2 register over its entries, in column order: z = lane 0 = Σ x·w_j and
 * s = lane 1 = Σ x·u_j, the reference's single accumulators. One row at a time.
 */
const rowsDotsPairs = (): WasmFunction => {
  const [M, IDX, RP, COL, VAL, PAIRS, Z, S] = [0, 1, 2, 3, 4, 5, 6, 7]
  const L = new Locals(8)
  const K = L.add(I32), ROW = L.add(I32), Q = L.add(I32), QE = L.add(I32)
  const ACC = L.add(V128)
  const c = new WasmCode()
  forFrom0(c, K, M, 1, () => {
    rowRange(c, IDX, K, RP, ROW, Q, QE)
    c.v128Zero().localSet(ACC)
    forLoop(c, Q, QE, 1, () => gatherStep(c, ACC, VAL, COL, PAIRS, Q, true))
    storeLanes(c, Z, S, K, ACC, 0)
  })
  return kernel('rowsDotsPairs', L, c)
}

/**
 * The gather dots of the sparse rows: each sum runs over a range of entries in entry order with
 * one accumulator, and two independent sums go together in one loop (over the length of the
 * shorter, then the rest of the longer), so that their chains of dependent adds overlap.
 *
 * splitDots(m, idx, lo, mid, hi, col, val, vec, out): for the row i = idx[k], k < m,
 * a = Σ val[q]·vec[col[q]] over [lo[i], mid[i]) and b = the same over [mid[i], hi[i]), and
 * out[k] = a + b: over a row's even-column and then its odd-column entries (each part in column
 * order), the grad-type dot with the reference's two accumulators.
 *
 * pairDots(m, idx, lo, hi, col, val, vec, out): out[k] = Σ val[q]·vec[col[q]] over
 * [lo[i], hi[i]) for i = idx[k], two rows at a time: over a row's entries in column order, the
 * hvp-type dot.
 */
const gatherDots = (variant: 'split' | 'pair'): WasmFunction => {
  const split = variant === 'split'
  const [M, IDX, LO, MID, HI, COL, VAL, VEC, OUT] = split ? [0, 1, 2, 3, 4, 5, 6, 7, 8] : [0, 1, 2, -1, 3, 4, 5, 6, 7]
  const L = new Locals(split ? 9 : 8)
  const K = L.add(I32), ROW = L.add(I32), QA = L.add(I32), EA = L.add(I32), QB = L.add(I32), EB = L.add(I32), T = L.add(I32), MN = L.add(I32)
  const A = L.add(F64), B = L.add(F64)
  const c = new WasmCode()
  const step = (acc: number, q: number): void => gatherStep(c, acc, VAL, COL, VEC, q)
  /** The range [lo[row], hi[row]) of row idx[k + off/4] into [q, e). */
  const range = (q: number, e: number, off: number): void => {
    load4(c, ROW, IDX, K, off)
    load4(c, q, LO, ROW)
    load4(c, e, HI, ROW)
  }
  forFrom0(c, K, M, split ? 1 : 2, () => {
    if (split) {
      load4(c, ROW, IDX, K)
      load4(c, QA, LO, ROW)
      load4(c, EA, MID, ROW)
      load4(c, QB, MID, ROW)
      load4(c, EB, HI, ROW)
    } else {
      range(QA, EA, 0)
      // The second row, or an empty range past m.
      c.i32Const(0).localSet(QB).i32Const(0).localSet(EB)
      c.localGet(K).i32Const(1).i32Add().localGet(M).i32LtS().if()
      range(QB, EB, 4)
      c.end()
    }
    c.f64Zero().localSet(A).f64Zero().localSet(B)
    c.localGet(EA).localGet(QA).i32Sub().localSet(MN)
    c.localGet(EB).localGet(QB).i32Sub().localSet(T)
    minTo(c, T, MN, MN)
    c.localGet(QA).localGet(MN).i32Add().localSet(T)
    forLoop(c, QA, T, 1, () => {
      step(A, QA)
      step(B, QB)
      c.localGet(QB).i32Const(1).i32Add().localSet(QB)
    })
    forLoop(c, QA, EA, 1, () => step(A, QA))
    forLoop(c, QB, EB, 1, () => step(B, QB))
    if (split) at8(c, OUT, K).localGet(A).localGet(B).f64Add().f64Store()
    else {
      at8(c, OUT, K).localGet(A).f64Store()
      c.localGet(K).i32Const(1).i32Add().localGet(M).i32LtS().if()
      at8(c, OUT, K).localGet(B).f64Store(8)
      c.end()
    }
  })
  return kernel(split ? 'splitDots' : 'pairDots', L, c)
}

/**
 * rowsAxpy(m, p, idx, rowPtr, col, val, cf, t01, t23, out): the block axpys over the compressed
 * sparse rows. Rows 0 and 1 of a block are scattered into the zeroed scratch t01 (the first
 * stores c₀x, the second adds c₁x: c₀x₀ + c₁x₁ column by column, exactly), rows 2 and 3 into
 * t23; then out += t01 + t23 over the columns the block touches, and t01, t23 go back to zero.
 * Rows past m are skipped (the reference adds 0·x there). The flush runs over the column range
 * the block spans, two columns at a time, when that range is short against the block's entries
 * (narrow data such as MNIST), and otherwise over the block's entries themselves (wide text
 * data, where four rows span nearly every column): a column flushed twice adds 0 + 0 the second
 * time, and an untouched column of the range adds 0 + 0, neither of which changes out (out is
 * never −0). Either way the bits are those of the reference.
 */
const rowsAxpy = (): WasmFunction => {
  const [M, P, IDX, RP, COL, VAL, CF, T01, T23, OUT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  const L = new Locals(10)
  const K = L.add(I32), ROW = L.add(I32), Q = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32), ADDR = L.add(I32)
  const LO = L.add(I32), HI = L.add(I32), TMP = L.add(I32), NZ = L.add(I32)
  const QS = L.addN(I32, 4), QE = L.addN(I32, 4)
  const A = L.add(V128), B = L.add(V128)
  const CS = L.add(F64)
  const c = new WasmCode()
  /** out[j] += t01[j] + t23[j], then t01[j] = t23[j] = 0, for the column at byte j; pushOut pushes out + j. */
  const flushColumn = (pushOut: () => void, j: number): void => {
    pushOut()
    pushOut()
    c.f64Load()
    c.localGet(T01).localGet(j).i32Add().f64Load().localGet(T23).localGet(j).i32Add().f64Load().f64Add().f64Add()
    c.f64Store()
    c.localGet(T01).localGet(j).i32Add().f64Zero().f64Store()
    c.localGet(T23).localGet(j).i32Add().f64Zero().f64Store()
  }
  zeroOut(c, P, OUT, JB, PB, PB2)
  forFrom0(c, K, M, 4, () => {
    c.localGet(PB).localSet(LO)
    c.i32Const(0).localSet(HI)
    c.i32Const(0).localSet(NZ)
    for (let r = 0; r < 4; r++) {
      blockRowRange(c, r, () => c.localGet(M).localGet(K).i32Sub(), IDX, K, RP, ROW, QS[r]!, QE[r]!)
      c.localGet(NZ).localGet(QE[r]!).localGet(QS[r]!).i32Sub().i32Add().localSet(NZ)
      // The columns this row touches: [col[QS], col[QE − 1]] (entries are in column order).
      c.localGet(QS[r]!).localGet(QE[r]!).i32LtS().if()
      at4(c, COL, QS[r]!).i32Load().i32Const(3).i32Shl().localSet(TMP)
      minTo(c, TMP, LO, LO)
      at4(c, COL, QE[r]!).i32Const(4).i32Sub().i32Load().i32Const(1).i32Add().i32Const(3).i32Shl().localSet(TMP)
      c.localGet(TMP).localGet(HI).localGet(TMP).localGet(HI).i32GtS().select().localSet(HI)
      c.end()
      at8(c, CF, K).f64Load(8 * r).localSet(CS)
      const t = r < 2 ? T01 : T23
      c.localGet(QS[r]!).localSet(Q)
      forLoop(c, Q, QE[r]!, 1, () => {
        c.localGet(t)
        at4(c, COL, Q).i32Load().i32Const(3).i32Shl().i32Add().localSet(ADDR)
        c.localGet(ADDR)
        if (r === 1 || r === 3) c.localGet(ADDR).f64Load()
        c.localGet(CS)
        at8(c, VAL, Q).f64Load().f64Mul()
        if (r === 1 || r === 3) c.f64Add()
        c.f64Store()
      })
    }
    // Flush over the range when it spans at most 16 bytes (two columns) per entry of the block.
    c.localGet(HI).localGet(LO).i32Sub().localGet(NZ).i32Const(4).i32Shl().i32LeS().if()
    // out += t01 + t23 from LO rounded down to an even column, two columns at a time; scratch to 0.
    c.localGet(LO).i32Const(-16).i32And().localSet(JB)
    minTo(c, HI, PB2, TMP)
    forLoop(c, JB, TMP, 16, () => {
      c.localGet(T01).localGet(JB).i32Add().v128Load().localSet(A)
      c.localGet(T23).localGet(JB).i32Add().v128Load().localSet(B)
      c.localGet(OUT).localGet(JB).i32Add()
      c.localGet(OUT).localGet(JB).i32Add().v128Load().localGet(A).localGet(B).f64x2Add().f64x2Add()
      c.v128Store()
      c.localGet(T01).localGet(JB).i32Add().v128Zero().v128Store()
      c.localGet(T23).localGet(JB).i32Add().v128Zero().v128Store()
    })
    // The last column when p is odd, if touched.
    c.localGet(PB2).localGet(HI).i32LtS().if()
    flushColumn(() => c.localGet(OUT).localGet(PB2).i32Add(), PB2)
    c.end()
    c.else()
    // Flush over the block's entries: out[j] += t01[j] + t23[j], then both to 0.
    for (let r = 0; r < 4; r++) {
      c.localGet(QS[r]!).localSet(Q)
      forLoop(c, Q, QE[r]!, 1, () => {
        at4(c, COL, Q).i32Load().i32Const(3).i32Shl().localSet(TMP)
        c.localGet(OUT).localGet(TMP).i32Add().localSet(ADDR)
        flushColumn(() => c.localGet(ADDR), TMP)
      })
    }
    c.end()
  })
  return kernel('rowsAxpy', L, c)
}

/**
 * rowsScatter(m, p, idx, rowPtr, col, val, cf, out): out ← Σ_k cf[k]·x_{idx[k]}, row by row in
 * pass order, each entry added to out as it comes (out[j] += c·x): the axpy of CSR input, the
 * order of the TypeScript CSR kernel.
 */
const rowsScatter = (): WasmFunction => {
  const [M, P, IDX, RP, COL, VAL, CF, OUT] = [0, 1, 2, 3, 4, 5, 6, 7]
  const L = new Locals(8)
  const K = L.add(I32), ROW = L.add(I32), Q = L.add(I32), QE = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32), ADDR = L.add(I32)
  const CS = L.add(F64)
  const c = new WasmCode()
  zeroOut(c, P, OUT, JB, PB, PB2)
  forFrom0(c, K, M, 1, () => {
    load4(c, ROW, IDX, K)
    at8(c, CF, K).f64Load().localSet(CS)
    load4(c, Q, RP, ROW)
    load4(c, QE, RP, ROW, 4)
    scatterRow(c, OUT, COL, VAL, Q, QE, CS, ADDR)
  })
  return kernel('rowsScatter', L, c)
}

/**
 * gramVec(n, p, rowPtr, col, val, d, u, out): out ← Σᵢ (dᵢ·xᵢᵀu)·xᵢ over all rows of CSR input,
 * row by row: the dot with one accumulator in column order (the hvp-type s), c = dᵢ·s, then the
 * row scattered into out while its entries are in cache — one pass where an hvp-type pass with
 * the coefficients dᵢ·sᵢ takes two, with the same operations in the same order.
 */
const gramVec = (): WasmFunction => {
  const [N, P, RP, COL, VAL, D, U, OUT] = [0, 1, 2, 3, 4, 5, 6, 7]
  const L = new Locals(8)
  const I = L.add(I32), Q = L.add(I32), Q0 = L.add(I32), QE = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32), ADDR = L.add(I32)
  const S = L.add(F64), CS = L.add(F64)
  const c = new WasmCode()
  zeroOut(c, P, OUT, JB, PB, PB2)
  forFrom0(c, I, N, 1, () => {
    load4(c, Q0, RP, I)
    load4(c, QE, RP, I, 4)
    c.f64Zero().localSet(S)
    c.localGet(Q0).localSet(Q)
    forLoop(c, Q, QE, 1, () => gatherStep(c, S, VAL, COL, U, Q))
    at8(c, D, I).f64Load().localGet(S).f64Mul().localSet(CS)
    c.localGet(Q0).localSet(Q)
    scatterRow(c, OUT, COL, VAL, Q, QE, CS, ADDR)
  })
  return kernel('gramVec', L, c)
}

/**
 * gramRows(n, p, rowPtr, col, val, d, g): the upper triangle of Xᵀ diag(d) X into the zeroed
 * p × p matrix g, from the compressed sparse rows, in the order of `weightedGram` (rows in
 * order, rows with dᵢ = 0 skipped; for each pair s ≤ u of a row's non-zeros,
 * g[a, b] += (dᵢ·x_a)·x_b): the same bits.
 */
const gramRows = (): WasmFunction => {
  const [N, P, RP, COL, VAL, D, G] = [0, 1, 2, 3, 4, 5, 6]
  const L = new Locals(7)
  const I = L.add(I32), S = L.add(I32), U = L.add(I32), QE = L.add(I32), GA = L.add(I32), ADDR = L.add(I32), PB = L.add(I32)
  const DI = L.add(F64), CS = L.add(F64)
  const c = new WasmCode()
  c.localGet(P).i32Const(3).i32Shl().localSet(PB)
  forFrom0(c, I, N, 1, () => {
    at8(c, D, I).f64Load().localSet(DI)
    c.localGet(DI).f64Zero().f64Ne().if()
    load4(c, S, RP, I)
    load4(c, QE, RP, I, 4)
    forLoop(c, S, QE, 1, () => {
      c.localGet(G)
      at4(c, COL, S).i32Load().localGet(PB).i32Mul().i32Add().localSet(GA)
      c.localGet(DI)
      at8(c, VAL, S).f64Load().f64Mul().localSet(CS)
      c.localGet(S).localSet(U)
      forLoop(c, U, QE, 1, () => {
        c.localGet(GA)
        at4(c, COL, U).i32Load().i32Const(3).i32Shl().i32Add().localSet(ADDR)
        c.localGet(ADDR).localGet(ADDR).f64Load().localGet(CS)
        at8(c, VAL, U).f64Load().f64Mul().f64Add().f64Store()
      })
    })
    c.end()
  })
  return kernel('gramRows', L, c)
}

/** The module's bytes: the eleven kernels, no imports. */
export const rowKernelModuleBytes = (): Uint8Array =>
  wasmModule([], [gradDotsDense(), hvpDotsDense(), axpyDense(), rowsDots(), rowsDotsPairs(), gatherDots('split'), gatherDots('pair'), rowsAxpy(), rowsScatter(), gramVec(), gramRows()])

/** The kernels of {@link rowKernelModuleBytes} as an instance exports them (every argument a byte address or count). */
export interface RowKernels {
  readonly gradDotsDense: (m: number, p: number, idx: number, w: number, z: number, x: number) => void
  readonly hvpDotsDense: (m: number, p: number, idx: number, w: number, u: number, z: number, s: number, x: number) => void
  readonly axpyDense: (m: number, p: number, idx: number, cf: number, out: number, x: number) => void
  readonly rowsDots: (m: number, idx: number, rp: number, col: number, val: number, pairs: number, z: number, s: number, hvp: number) => void
  readonly rowsDotsPairs: (m: number, idx: number, rp: number, col: number, val: number, pairs: number, z: number, s: number) => void
  readonly splitDots: (m: number, idx: number, lo: number, mid: number, hi: number, col: number, val: number, vec: number, out: number) => void
  readonly pairDots: (m: number, idx: number, lo: number, hi: number, col: number, val: number, vec: number, out: number) => void
  readonly rowsAxpy: (m: number, p: number, idx: number, rp: number, col: number, val: number, cf: number, t01: number, t23: number, out: number) => void
  readonly rowsScatter: (m: number, p: number, idx: number, rp: number, col: number, val: number, cf: number, out: number) => void
  readonly gramVec: (n: number, p: number, rp: number, col: number, val: number, d: number, u: number, out: number) => void
  readonly gramRows: (n: number, p: number, rp: number, col: number, val: number, d: number, g: number) => void
}
