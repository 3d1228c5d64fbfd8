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
  constructor(private readonly nParams: number) {}
  add(t: ValType): number {
    this.types.push(t)
    return this.nParams + this.types.length - 1
  }
}

const i32s = (k: number): ValType[] => new Array<ValType>(k).fill(I32)

/** for (; i < limit; i += step) body — i and limit are i32 locals. */
const forLoop = (c: WasmCode, i: number, limit: number, step: number, body: () => void): void => {
  c.block().loop().localGet(i).localGet(limit).i32GeS().brIf(1)
  body()
  c.localGet(i).i32Const(step).i32Add().localSet(i).br(0).end().end()
}

/** out[0..pb) ← 0 (pb in bytes). */
const zeroOut = (c: WasmCode, out: number, jb: number, pb: number): void => {
  c.i32Const(0).localSet(jb)
  forLoop(c, jb, pb, 8, () => c.localGet(out).localGet(jb).i32Add().f64Zero().f64Store())
}

/** pb = 8p (bytes per row) and pb2 = 8·(p rounded down to even). */
const rowBytes = (c: WasmCode, p: number, pb: number, pb2: number): void => {
  c.localGet(p).i32Const(3).i32Shl().localSet(pb)
  c.localGet(p).i32Const(-2).i32And().i32Const(3).i32Shl().localSet(pb2)
}

/** Row offsets of a dense block: o_r = x + idx[k + r]·pb, or o₀ when r ≥ left (left = m − k). */
const denseRowOffsets = (c: WasmCode, o: ReadonlyArray<number>, x: number, idx: number, k: number, m: number, pb: number): void => {
  for (let r = 0; r < 4; r++) {
    c.localGet(x).localGet(idx).localGet(k).i32Const(2).i32Shl().i32Add().i32Load(4 * r).localGet(pb).i32Mul().i32Add()
    if (r > 0) c.localGet(o[0]!).localGet(m).localGet(k).i32Sub().i32Const(r).i32GtS().select()
    c.localSet(o[r]!)
  }
}

/** Address of element k of an array of 8-byte values at base: base + 8k. */
const at8 = (c: WasmCode, base: number, k: number): WasmCode => c.localGet(base).localGet(k).i32Const(3).i32Shl().i32Add()
/** Address of element k of an array of 4-byte values at base: base + 4k. */
const at4 = (c: WasmCode, base: number, k: number): WasmCode => c.localGet(base).localGet(k).i32Const(2).i32Shl().i32Add()

/** acc += val[q]·vec[col[q]] (q, acc: locals; val, col, vec: base addresses in locals). */
const gatherStep = (c: WasmCode, acc: number, val: number, col: number, vec: number, q: number): void => {
  c.localGet(acc)
  at8(c, val, q).f64Load()
  c.localGet(vec)
  at4(c, col, q).i32Load().i32Const(3).i32Shl().i32Add().f64Load()
  c.f64Mul().f64Add().localSet(acc)
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
 * gradDotsDense(m, p, idx, w, z, x): z[k] = x_{idx[k]}ᵀw for k < m over the dense rows, four
 * rows at a time; lane 0 sums the even columns and lane 1 the odd ones (the reference's two
 * accumulators), then z = lane 0 + lane 1. Writes z[k] for k < m rounded up to a multiple of 4.
 */
const gradDotsDense = (): WasmFunction => {
  const [M, P, IDX, W, Z, X] = [0, 1, 2, 3, 4, 5]
  const L = new Locals(6)
  const K = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32)
  const O = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const A = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const WV = L.add(V128)
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    denseRowOffsets(c, O, X, IDX, K, M, PB)
    for (const a of A) c.v128Zero().localSet(a)
    c.i32Const(0).localSet(JB)
    forLoop(c, JB, PB2, 16, () => {
      c.localGet(W).localGet(JB).i32Add().v128Load().localSet(WV)
      for (let r = 0; r < 4; r++) c.localGet(A[r]!).localGet(O[r]!).localGet(JB).i32Add().v128Load().localGet(WV).f64x2Mul().f64x2Add().localSet(A[r]!)
    })
    c.localGet(PB2).localGet(PB).i32LtS().if()
    for (let r = 0; r < 4; r++)
      c.localGet(A[r]!).localGet(A[r]!).f64x2ExtractLane(0)
        .localGet(O[r]!).localGet(JB).i32Add().f64Load().localGet(W).localGet(JB).i32Add().f64Load().f64Mul().f64Add()
        .f64x2ReplaceLane(0).localSet(A[r]!)
    c.end()
    for (let r = 0; r < 4; r++) at8(c, Z, K).localGet(A[r]!).f64x2ExtractLane(0).localGet(A[r]!).f64x2ExtractLane(1).f64Add().f64Store(8 * r)
  })
  return { name: 'gradDotsDense', params: i32s(6), results: [], locals: L.types, code: c }
}

/**
 * hvpDotsDense(m, p, idx, w, u, z, s, x): z[k] = x_{idx[k]}ᵀw and s[k] = x_{idx[k]}ᵀu, column
 * by column (lane 0 and lane 1 of x_j·[w_j, u_j]), four rows at a time.
 */
const hvpDotsDense = (): WasmFunction => {
  const [M, P, IDX, W, U, Z, S, X] = [0, 1, 2, 3, 4, 5, 6, 7]
  const L = new Locals(8)
  const K = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32)
  const O = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const A = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const WV = L.add(V128)
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    denseRowOffsets(c, O, X, IDX, K, M, PB)
    for (const a of A) c.v128Zero().localSet(a)
    c.i32Const(0).localSet(JB)
    forLoop(c, JB, PB, 8, () => {
      c.localGet(W).localGet(JB).i32Add().v128Load64Splat().localGet(U).localGet(JB).i32Add().f64Load().f64x2ReplaceLane(1).localSet(WV)
      for (let r = 0; r < 4; r++) c.localGet(A[r]!).localGet(O[r]!).localGet(JB).i32Add().v128Load64Splat().localGet(WV).f64x2Mul().f64x2Add().localSet(A[r]!)
    })
    for (let r = 0; r < 4; r++) {
      at8(c, Z, K).localGet(A[r]!).f64x2ExtractLane(0).f64Store(8 * r)
      at8(c, S, K).localGet(A[r]!).f64x2ExtractLane(1).f64Store(8 * r)
    }
  })
  return { name: 'hvpDotsDense', params: i32s(8), results: [], locals: L.types, code: c }
}

/**
 * axpyDense(m, p, idx, cf, out, x): out ← Σ over blocks of (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃), with
 * c_r = cf[k + r] (cf padded with zeros past m) and x_r the dense row idx[k + r] (row idx[k] past m).
 */
const axpyDense = (): WasmFunction => {
  const [M, P, IDX, CF, OUT, X] = [0, 1, 2, 3, 4, 5]
  const L = new Locals(6)
  const K = L.add(I32), JB = L.add(I32), PB = L.add(I32), PB2 = L.add(I32)
  const O = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const CV = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  zeroOut(c, OUT, JB, PB)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    denseRowOffsets(c, O, X, IDX, K, M, PB)
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
    c.i32Const(0).localSet(JB)
    forLoop(c, JB, PB2, 16, () => {
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
  return { name: 'axpyDense', params: i32s(6), results: [], locals: L.types, code: c }
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
  const Q = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const QE = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const ACC = [L.add(V128), L.add(V128), L.add(V128), L.add(V128)]
  const c = new WasmCode()
  /** acc_r += val[q]·pairs[col[q]] for the entry q in local QL. */
  const step = (acc: number, ql: number): void => {
    c.localGet(acc)
    at8(c, VAL, ql).v128Load64Splat()
    c.localGet(PAIRS)
    at4(c, COL, ql).i32Load().i32Const(4).i32Shl().i32Add().v128Load()
    c.f64x2Mul().f64x2Add().localSet(acc)
  }
  const store = (r: number): void => {
    c.localGet(HV).if()
    at8(c, Z, K).localGet(ACC[r]!).f64x2ExtractLane(0).f64Store(8 * r)
    at8(c, S, K).localGet(ACC[r]!).f64x2ExtractLane(1).f64Store(8 * r)
    c.else()
    at8(c, Z, K).localGet(ACC[r]!).f64x2ExtractLane(0).localGet(ACC[r]!).f64x2ExtractLane(1).f64Add().f64Store(8 * r)
    c.end()
  }
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    c.localGet(M).localGet(K).i32Sub().localSet(LEFT)
    // Row r's entries [Q_r, QE_r); a row past m gets an empty range.
    for (let r = 0; r < 4; r++) {
      if (r > 0) c.localGet(LEFT).i32Const(r).i32GtS().if()
      at4(c, IDX, K).i32Load(4 * r).localSet(ROW)
      at4(c, RP, ROW).i32Load().localSet(Q[r]!)
      at4(c, RP, ROW).i32Load(4).localSet(QE[r]!)
      if (r > 0) c.else().i32Const(0).localSet(Q[r]!).i32Const(0).localSet(QE[r]!).end()
      c.v128Zero().localSet(ACC[r]!)
    }
    // MN = the shortest length among the rows present (0 when the block is partial).
    c.localGet(QE[0]!).localGet(Q[0]!).i32Sub().localSet(MN)
    for (let r = 1; r < 4; r++) {
      c.localGet(QE[r]!).localGet(Q[r]!).i32Sub().localSet(TMP)
      c.localGet(TMP).localGet(MN).localGet(TMP).localGet(MN).i32LtS().select().localSet(MN)
    }
    c.i32Const(0).localSet(T)
    forLoop(c, T, MN, 1, () => {
      for (let r = 0; r < 4; r++) {
        c.localGet(Q[r]!).localGet(T).i32Add().localSet(TMP)
        step(ACC[r]!, TMP)
      }
    })
    for (let r = 0; r < 4; r++) {
      c.localGet(Q[r]!).localGet(MN).i32Add().localSet(TMP)
      forLoop(c, TMP, QE[r]!, 1, () => step(ACC[r]!, TMP))
      if (r > 0) c.localGet(LEFT).i32Const(r).i32GtS().if()
      store(r)
      if (r > 0) c.end()
    }
  })
  return { name: 'rowsDots', params: i32s(9), results: [], locals: L.types, code: c }
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
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 1, () => {
    at4(c, IDX, K).i32Load().localSet(ROW)
    at4(c, RP, ROW).i32Load().localSet(Q)
    at4(c, RP, ROW).i32Load(4).localSet(QE)
    c.v128Zero().localSet(ACC)
    forLoop(c, Q, QE, 1, () => {
      c.localGet(ACC)
      at8(c, VAL, Q).v128Load64Splat()
      c.localGet(PAIRS)
      at4(c, COL, Q).i32Load().i32Const(4).i32Shl().i32Add().v128Load()
      c.f64x2Mul().f64x2Add().localSet(ACC)
    })
    at8(c, Z, K).localGet(ACC).f64x2ExtractLane(0).f64Store()
    at8(c, S, K).localGet(ACC).f64x2ExtractLane(1).f64Store()
  })
  return { name: 'rowsDotsPairs', params: i32s(8), results: [], locals: L.types, code: c }
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
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, split ? 1 : 2, () => {
    if (split) {
      at4(c, IDX, K).i32Load().localSet(ROW)
      at4(c, LO, ROW).i32Load().localSet(QA)
      at4(c, MID, ROW).i32Load().localSet(EA)
      at4(c, MID, ROW).i32Load().localSet(QB)
      at4(c, HI, ROW).i32Load().localSet(EB)
    } else {
      at4(c, IDX, K).i32Load().localSet(ROW)
      at4(c, LO, ROW).i32Load().localSet(QA)
      at4(c, HI, ROW).i32Load().localSet(EA)
      // The second row, or an empty range past m.
      c.i32Const(0).localSet(QB).i32Const(0).localSet(EB)
      c.localGet(K).i32Const(1).i32Add().localGet(M).i32LtS().if()
      at4(c, IDX, K).i32Load(4).localSet(ROW)
      at4(c, LO, ROW).i32Load().localSet(QB)
      at4(c, HI, ROW).i32Load().localSet(EB)
      c.end()
    }
    c.f64Zero().localSet(A).f64Zero().localSet(B)
    c.localGet(EA).localGet(QA).i32Sub().localSet(MN)
    c.localGet(EB).localGet(QB).i32Sub().localSet(T)
    c.localGet(T).localGet(MN).localGet(T).localGet(MN).i32LtS().select().localSet(MN)
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
  return { name: split ? 'splitDots' : 'pairDots', params: i32s(split ? 9 : 8), results: [], locals: L.types, code: c }
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
  const QS = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const QE = [L.add(I32), L.add(I32), L.add(I32), L.add(I32)]
  const A = L.add(V128), B = L.add(V128)
  const CS = L.add(F64)
  const c = new WasmCode()
  rowBytes(c, P, PB, PB2)
  zeroOut(c, OUT, JB, PB)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 4, () => {
    c.localGet(PB).localSet(LO)
    c.i32Const(0).localSet(HI)
    c.i32Const(0).localSet(NZ)
    for (let r = 0; r < 4; r++) {
      // Row r's entries [QS_r, QE_r); a row past m gets an empty range.
      if (r > 0) c.localGet(M).localGet(K).i32Sub().i32Const(r).i32GtS().if()
      at4(c, IDX, K).i32Load(4 * r).localSet(ROW)
      at4(c, RP, ROW).i32Load().localSet(QS[r]!)
      at4(c, RP, ROW).i32Load(4).localSet(QE[r]!)
      if (r > 0) c.else().i32Const(0).localSet(QS[r]!).i32Const(0).localSet(QE[r]!).end()
      c.localGet(NZ).localGet(QE[r]!).localGet(QS[r]!).i32Sub().i32Add().localSet(NZ)
      // The columns this row touches: [col[QS], col[QE − 1]] (entries are in column order).
      c.localGet(QS[r]!).localGet(QE[r]!).i32LtS().if()
      at4(c, COL, QS[r]!).i32Load().i32Const(3).i32Shl().localSet(TMP)
      c.localGet(TMP).localGet(LO).localGet(TMP).localGet(LO).i32LtS().select().localSet(LO)
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
    c.localGet(HI).localGet(PB2).localGet(HI).localGet(PB2).i32LtS().select().localSet(TMP)
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
    c.localGet(OUT).localGet(PB2).i32Add()
    c.localGet(OUT).localGet(PB2).i32Add().f64Load()
    c.localGet(T01).localGet(PB2).i32Add().f64Load().localGet(T23).localGet(PB2).i32Add().f64Load().f64Add().f64Add()
    c.f64Store()
    c.localGet(T01).localGet(PB2).i32Add().f64Zero().f64Store()
    c.localGet(T23).localGet(PB2).i32Add().f64Zero().f64Store()
    c.end()
    c.else()
    // Flush over the block's entries: out[j] += t01[j] + t23[j], then both to 0.
    for (let r = 0; r < 4; r++) {
      c.localGet(QS[r]!).localSet(Q)
      forLoop(c, Q, QE[r]!, 1, () => {
        at4(c, COL, Q).i32Load().i32Const(3).i32Shl().localSet(TMP)
        c.localGet(OUT).localGet(TMP).i32Add().localSet(ADDR)
        c.localGet(ADDR).localGet(ADDR).f64Load()
        c.localGet(T01).localGet(TMP).i32Add().f64Load().localGet(T23).localGet(TMP).i32Add().f64Load().f64Add().f64Add()
        c.f64Store()
        c.localGet(T01).localGet(TMP).i32Add().f64Zero().f64Store()
        c.localGet(T23).localGet(TMP).i32Add().f64Zero().f64Store()
      })
    }
    c.end()
  })
  return { name: 'rowsAxpy', params: i32s(10), results: [], locals: L.types, code: c }
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
  rowBytes(c, P, PB, PB2)
  zeroOut(c, OUT, JB, PB)
  c.i32Const(0).localSet(K)
  forLoop(c, K, M, 1, () => {
    at4(c, IDX, K).i32Load().localSet(ROW)
    at8(c, CF, K).f64Load().localSet(CS)
    at4(c, RP, ROW).i32Load().localSet(Q)
    at4(c, RP, ROW).i32Load(4).localSet(QE)
    scatterRow(c, OUT, COL, VAL, Q, QE, CS, ADDR)
  })
  return { name: 'rowsScatter', params: i32s(8), results: [], locals: L.types, code: c }
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
  rowBytes(c, P, PB, PB2)
  zeroOut(c, OUT, JB, PB)
  c.i32Const(0).localSet(I)
  forLoop(c, I, N, 1, () => {
    at4(c, RP, I).i32Load().localSet(Q0)
    at4(c, RP, I).i32Load(4).localSet(QE)
    c.f64Zero().localSet(S)
    c.localGet(Q0).localSet(Q)
    forLoop(c, Q, QE, 1, () => gatherStep(c, S, VAL, COL, U, Q))
    at8(c, D, I).f64Load().localGet(S).f64Mul().localSet(CS)
    c.localGet(Q0).localSet(Q)
    scatterRow(c, OUT, COL, VAL, Q, QE, CS, ADDR)
  })
  return { name: 'gramVec', params: i32s(8), results: [], locals: L.types, code: c }
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
  c.i32Const(0).localSet(I)
  forLoop(c, I, N, 1, () => {
    c.localGet(D).localGet(I).i32Const(3).i32Shl().i32Add().f64Load().localSet(DI)
    c.localGet(DI).f64Zero().f64Ne().if()
    c.localGet(RP).localGet(I).i32Const(2).i32Shl().i32Add().i32Load().localSet(S)
    c.localGet(RP).localGet(I).i32Const(2).i32Shl().i32Add().i32Load(4).localSet(QE)
    forLoop(c, S, QE, 1, () => {
      c.localGet(G).localGet(COL).localGet(S).i32Const(2).i32Shl().i32Add().i32Load().localGet(PB).i32Mul().i32Add().localSet(GA)
      c.localGet(DI).localGet(VAL).localGet(S).i32Const(3).i32Shl().i32Add().f64Load().f64Mul().localSet(CS)
      c.localGet(S).localSet(U)
      forLoop(c, U, QE, 1, () => {
        c.localGet(GA).localGet(COL).localGet(U).i32Const(2).i32Shl().i32Add().i32Load().i32Const(3).i32Shl().i32Add().localSet(ADDR)
        c.localGet(ADDR).localGet(ADDR).f64Load().localGet(CS).localGet(VAL).localGet(U).i32Const(3).i32Shl().i32Add().f64Load().f64Mul().f64Add().f64Store()
      })
    })
    c.end()
  })
  return { name: 'gramRows', params: new Array<ValType>(7).fill(I32), results: [], locals: L.types, code: c }
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
